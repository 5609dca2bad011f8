-- The last days' events again, narrow and one partition per day, for the live part of
-- the hourly views: their latest hour reads one day's partition, where events_local
-- (monthly partitions, sorted by type and user, so an hour's rows lie in every granule
-- of the month) makes FINAL read the whole month. The same sorting key as events_local,
-- so FINAL collapses a retried event exactly as there. Only the columns the hourly
-- questions read, and the ids an erasure deletes by: a new hourly question that reads
-- another column adds it here (and to events_recent_mv). `clickstream rollup` drops the
-- days before the day before yesterday (18.16 has no TTL); `clickstream erase` deletes
-- from it as from events_local.
CREATE TABLE IF NOT EXISTS ${database}.events_recent_local ${on_cluster}
(
    event_id UUID,
    event_type String,
    event_time DateTime('UTC'),
    user_id String,
    anonymous_id String
)
ENGINE = ${sharded_replacing_engine}
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (event_type, user_id, event_time, event_id)
