-- Storage: one wide row per event. The replacing engine collapses rows with the
-- same sorting key, and the key ends in event_id, so a retried or re-delivered
-- event becomes one row after merges (analysts read through FINAL meanwhile).
-- No server-side defaults (now(), rand()): an ETL retry must send a
-- byte-identical block for replicated block deduplication to absorb it.
CREATE TABLE IF NOT EXISTS ${database}.events_local ${on_cluster}
(
    event_id UUID,
    event_type String,
    event_time DateTime('UTC'),
    received_at DateTime('UTC'),
    user_id String,
    country String,
    device String,
    element String,
    page_url String,
    referrer_url String,
    filter_type String,
    filter_value String,
    video_id String,
    from_quality String,
    to_quality String,
    current_time_s UInt32,
    duration_s UInt32,
    schema_version UInt8
)
ENGINE = ${replacing_engine}
PARTITION BY toYYYYMM(event_time)
ORDER BY (event_type, user_id, event_time, event_id)
