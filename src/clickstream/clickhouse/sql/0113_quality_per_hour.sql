-- quality_per_hour, served from rollup_quality_per_hour for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.quality_per_hour ${on_cluster} AS
${served_view_quality_per_hour}
