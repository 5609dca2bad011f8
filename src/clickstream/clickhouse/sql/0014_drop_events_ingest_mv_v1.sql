-- ClickHouse 18.16 cannot change a view's query, so the ingest view is
-- replaced: dropped here, created for envelope v2 by 0015. Run migrations with
-- the ETL stopped: an insert into events_ingest between the two statements
-- would reach no view, and its rows would be lost.
DROP TABLE IF EXISTS ${database}.events_ingest_mv ${on_cluster}
