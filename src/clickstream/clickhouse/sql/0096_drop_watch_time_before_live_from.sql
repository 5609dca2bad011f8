-- `watch_time` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.watch_time ${on_cluster}
