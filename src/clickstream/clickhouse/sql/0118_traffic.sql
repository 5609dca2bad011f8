-- Events per hour by type: the hours before the first one changed since the job's
-- last pass (never before yesterday) from rollup_traffic's latest builds, the rest
-- live from events_recent FINAL (Rollup.served_sql renders the body from
-- rollup_sql/14_traffic.sql).
CREATE VIEW IF NOT EXISTS ${database}.traffic ${on_cluster} AS
${served_traffic}
