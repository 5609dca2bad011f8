-- `videos_completed` becomes rollup-backed (next migration); `videos_completed_raw` keeps the old way.
DROP TABLE IF EXISTS ${database}.videos_completed ${on_cluster}
