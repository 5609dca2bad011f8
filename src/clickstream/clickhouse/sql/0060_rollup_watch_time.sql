-- watch_time per day, as the rollup job computed it from events FINAL under build_id.
CREATE TABLE IF NOT EXISTS ${database}.rollup_watch_time ${on_cluster}
(
    build_id UInt64,
    day Date,
    video_id String,
    starts UInt64,
    playbacks UInt64,
    viewers UInt64,
    watch_seconds Float64,
    completions UInt64,
    completion_rate Float64
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, video_id)
