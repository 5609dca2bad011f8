-- One row per pass of the job over an hourly rollup: every hour before served_until
-- has a recorded build that counts every row stored before verified_at (the pass's
-- start, less a margin). Rows changed since are in rollup_changes. The job drops
-- the days before yesterday.
CREATE TABLE IF NOT EXISTS ${database}.rollup_verified ${on_cluster}
(
    rollup_name String,
    verified_at DateTime('UTC'),
    served_until DateTime('UTC'),
    recorded_at DateTime('UTC')
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMMDD(verified_at)
ORDER BY (rollup_name, verified_at)
