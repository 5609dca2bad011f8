-- traffic per hour, as the rollup job computed it from events FINAL under build_id.
-- Counts only: an hour's rows add up to a day's, and to any range's.
CREATE TABLE IF NOT EXISTS ${database}.rollup_traffic ${on_cluster}
(
    build_id UInt64,
    hour DateTime('UTC'),
    event_type String,
    events UInt64,
    anonymous_events UInt64
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, build_id, event_type)
