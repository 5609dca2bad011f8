-- Every row stored in events_local, copied as it is stored.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.events_recent_mv ${on_cluster}
TO ${database}.events_recent_local
AS SELECT * FROM ${database}.events_local
