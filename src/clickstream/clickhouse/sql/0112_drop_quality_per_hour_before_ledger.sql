-- Replaced by the view below: today live from events_recent, one read of rollup_ledger.
DROP TABLE IF EXISTS ${database}.quality_per_hour ${on_cluster}
