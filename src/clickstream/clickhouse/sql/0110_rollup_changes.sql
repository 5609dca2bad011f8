-- When stored rows changed which hours: a row per insert block and event day (from
-- events_local, rollup_changes_mv) or per erased day (from erasures,
-- rollup_changes_erasures_mv), at the server's clock, pass_of ''. And a row per pass
-- of the rollup job over an hourly rollup (pass_of: its name): every hour before
-- first_hour has a recorded build that counts every row stored before changed_at.
-- An hourly view serves builds up to the earlier of its latest pass's first_hour and
-- the first hour changed since: one small read at query time. Every node holds it
-- whole (a change read on any node sees every shard's); identical rows from two
-- nodes are one change. The job drops the days nobody reads any more.
CREATE TABLE IF NOT EXISTS ${database}.rollup_changes ${on_cluster}
(
    changed_at DateTime('UTC'),
    first_hour DateTime('UTC'),
    last_hour DateTime('UTC'),
    pass_of String
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMMDD(changed_at)
ORDER BY (changed_at, pass_of, first_hour, last_hour)
