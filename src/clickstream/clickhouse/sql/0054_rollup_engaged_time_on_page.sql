-- engaged_time_on_page per day, as the rollup job computed it from events FINAL under build_id.
CREATE TABLE IF NOT EXISTS ${database}.rollup_engaged_time_on_page ${on_cluster}
(
    build_id UInt64,
    day Date,
    page_url String,
    method String,
    views UInt64,
    timed_views UInt64,
    total_seconds Int64,
    avg_seconds Float64
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, page_url, method)
