-- `quality_per_hour` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.quality_per_hour ${on_cluster}
