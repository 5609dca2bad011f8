-- Replaced by the view below: today live from events_recent, one read of rollup_ledger.
DROP TABLE IF EXISTS ${database}.clicks_by_element ${on_cluster}
