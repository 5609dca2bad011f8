-- drop_off per day, as the rollup job computed it from events FINAL under build_id.
CREATE TABLE IF NOT EXISTS ${database}.rollup_drop_off ${on_cluster}
(
    build_id UInt64,
    day Date,
    video_id String,
    pct UInt8,
    playbacks UInt64,
    watching UInt64,
    share Float64
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, video_id, pct)
