-- anonymous_activity per day, as the rollup job computed it from events FINAL under build_id.
CREATE TABLE IF NOT EXISTS ${database}.rollup_anonymous_activity ${on_cluster}
(
    build_id UInt64,
    day Date,
    anonymous_id String,
    events UInt64,
    page_views UInt64,
    first_seen DateTime('UTC'),
    last_seen DateTime('UTC')
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, anonymous_id)
