-- An upgraded database: the latest build of every hour so far. The job's passes over
-- the new table have their own name (pass_of = 'rollup_traffic_by_hour'), so its first
-- pass after the upgrade builds every hour again, and the view serves these copies
-- only until then (builds before yesterday; live from yesterday 00:00). Every node is
-- a replica of the table, so one node's insert reaches all. Repeatable: a second copy
-- of an hour has the same build_id, and the replacing engine keeps one.
INSERT INTO ${database}.rollup_traffic_by_hour
    (hour, build_id, event_type, events, anonymous_events)
SELECT hour, max(build_id), groupArray(event_type), groupArray(events), groupArray(anonymous_events)
FROM ${database}.rollup_traffic
WHERE (hour, build_id) IN (
    SELECT hour, max(build_id) FROM ${database}.rollup_hour_builds
    WHERE rollup_name = 'traffic' GROUP BY hour
)
GROUP BY hour
