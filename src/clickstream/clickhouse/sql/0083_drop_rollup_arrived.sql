-- Replaced by the arrival rows of rollup_ledger.
DROP TABLE IF EXISTS ${database}.rollup_arrived ${on_cluster}
