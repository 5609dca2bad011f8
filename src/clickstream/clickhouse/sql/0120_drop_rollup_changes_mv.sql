-- Replaced by rollup_changes_closed_mv (previous migration).
DROP TABLE IF EXISTS ${database}.rollup_changes_mv ${on_cluster}
