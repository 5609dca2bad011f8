-- Replaced by the view below: today live from events_recent, one read of rollup_ledger.
DROP TABLE IF EXISTS ${database}.time_on_page ${on_cluster}
