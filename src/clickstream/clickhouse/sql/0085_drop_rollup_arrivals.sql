-- Read by nothing since 0081 copied its counts into rollup_ledger.
DROP TABLE IF EXISTS ${database}.rollup_arrivals ${on_cluster}
