-- sessions per day, as the rollup job computed it from events FINAL under build_id.
CREATE TABLE IF NOT EXISTS ${database}.rollup_sessions ${on_cluster}
(
    build_id UInt64,
    day Date,
    source String,
    sessions UInt64,
    total_duration_s UInt64,
    avg_duration_s Float64,
    page_views UInt64,
    pages_per_session Float64,
    bounces UInt64,
    bounce_rate Float64
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, source)
