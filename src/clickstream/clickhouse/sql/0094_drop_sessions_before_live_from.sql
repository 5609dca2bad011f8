-- `sessions` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.sessions ${on_cluster}
