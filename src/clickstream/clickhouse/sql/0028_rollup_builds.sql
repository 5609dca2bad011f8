-- One row per finished build of one rollup for one day. build_id orders builds by
-- start (server seconds * 1e6 + random): the latest build of a day wins. rows_seen
-- is the day's arrival count read before the build read events FINAL.
CREATE TABLE IF NOT EXISTS ${database}.rollup_builds ${on_cluster}
(
    rollup_name String,
    day Date,
    build_id UInt64,
    rows_seen UInt64,
    watermark DateTime('UTC'),
    started_at DateTime('UTC'),
    built_at DateTime('UTC')
)
ENGINE = ${global_merge_engine}
ORDER BY (rollup_name, day, build_id)
