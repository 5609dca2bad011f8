-- `videos_completed` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.videos_completed ${on_cluster}
