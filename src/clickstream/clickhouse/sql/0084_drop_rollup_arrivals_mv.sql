-- Arrivals are counted by rollup_ledger_arrivals_mv now.
DROP TABLE IF EXISTS ${database}.rollup_arrivals_mv ${on_cluster}
