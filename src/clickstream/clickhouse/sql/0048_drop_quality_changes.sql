-- `quality_changes` becomes rollup-backed (next migration); `quality_changes_raw` keeps the old way.
DROP TABLE IF EXISTS ${database}.quality_changes ${on_cluster}
