-- The latest events again, one partition per day, for the analyst views' live part:
-- today's numbers read today's partition only, where events (monthly partitions,
-- ordered by type and user) would make FINAL read the whole month. Same columns and
-- sorting key as events_local, so FINAL collapses retries exactly as there.
-- `clickstream rollup` drops the days before yesterday (18.16 has no TTL);
-- `clickstream erase` deletes from it as from events_local. A column added to
-- events_local must be added here too, and events_recent_mv recreated.
CREATE TABLE IF NOT EXISTS ${database}.events_recent_local ${on_cluster}
AS ${database}.events_local
ENGINE = ${sharded_replacing_engine}
PARTITION BY toDate(event_time)
ORDER BY (event_type, user_id, event_time, event_id)
