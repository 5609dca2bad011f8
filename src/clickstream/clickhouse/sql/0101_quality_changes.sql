-- quality_changes, served from rollup_quality_changes for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.quality_changes ${on_cluster} AS
${served_view_quality_changes}
