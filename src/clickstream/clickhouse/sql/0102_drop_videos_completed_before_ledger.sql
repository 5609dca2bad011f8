-- Replaced by the view below: today live from events_recent, one read of rollup_ledger.
DROP TABLE IF EXISTS ${database}.videos_completed ${on_cluster}
