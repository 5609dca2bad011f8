-- Replaced again, for the columns of 0016 (see 0014: run migrations with the
-- ETL stopped, or rows inserted between this and 0019 reach no view).
DROP TABLE IF EXISTS ${database}.events_ingest_mv ${on_cluster}
