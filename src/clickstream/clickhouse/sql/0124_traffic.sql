-- Events per hour by type: the hours before the first one changed since the job's
-- last pass (never before yesterday) from the latest build of each hour in
-- rollup_traffic_by_hour, the rest live from events_recent FINAL (the node's own
-- events_recent_local on a single node). Rollup.served_sql renders the body from
-- rollup_sql/14_traffic.sql.
CREATE VIEW IF NOT EXISTS ${database}.traffic ${on_cluster} AS
${served_traffic}
