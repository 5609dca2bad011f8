-- videos_completed per day, as the rollup job computed it from events FINAL under build_id.
-- Final numbers, not -State columns: every question here is per day, so a day's
-- distinct users never need merging with another day's.
CREATE TABLE IF NOT EXISTS ${database}.rollup_videos_completed ${on_cluster}
(
    build_id UInt64,
    day Date,
    video_id String,
    completions UInt64,
    users UInt64,
    avg_duration_s Float64
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, video_id)
