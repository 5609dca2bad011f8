-- One row per finished build of an hourly rollup for one hour (as rollup_builds for
-- days): the view serves the latest build of each hour before its live hour.
CREATE TABLE IF NOT EXISTS ${database}.rollup_hour_builds ${on_cluster}
(
    rollup_name String,
    hour DateTime('UTC'),
    build_id UInt64,
    started_at DateTime('UTC'),
    built_at DateTime('UTC')
)
ENGINE = ${global_merge_engine}
ORDER BY (rollup_name, hour, build_id)
