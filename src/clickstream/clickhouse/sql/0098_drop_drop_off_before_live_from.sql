-- `drop_off` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.drop_off ${on_cluster}
