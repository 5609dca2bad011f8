-- The ETL's own database: its ClickHouse user may use this one only (18.16
-- has no GRANT, only a per-user list of databases), so it can insert events
-- through the door below but not read or drop anything in ${database}.
CREATE DATABASE IF NOT EXISTS ${database}_ingest ${on_cluster}
