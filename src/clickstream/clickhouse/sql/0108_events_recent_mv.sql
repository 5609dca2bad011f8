-- Every row stored in events_local, copied (its narrow columns) as it is stored, on the
-- same node.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.events_recent_mv ${on_cluster}
TO ${database}.events_recent_local
AS SELECT event_id, event_type, event_time, user_id, anonymous_id
FROM ${database}.events_local
