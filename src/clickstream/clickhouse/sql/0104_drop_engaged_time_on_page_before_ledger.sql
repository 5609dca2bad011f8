-- Replaced by the view below: today live from events_recent, one read of rollup_ledger.
DROP TABLE IF EXISTS ${database}.engaged_time_on_page ${on_cluster}
