-- quality_per_hour per day, as the rollup job computed it from events FINAL under build_id.
CREATE TABLE IF NOT EXISTS ${database}.rollup_quality_per_hour ${on_cluster}
(
    build_id UInt64,
    day Date,
    device String,
    country String,
    hours_watched Float64,
    switches UInt64,
    upgrades UInt64,
    downgrades UInt64,
    switches_per_hour Float64
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, device, country)
