-- `quality_changes` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.quality_changes ${on_cluster}
