-- anonymous_activity, served from rollup_anonymous_activity for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.anonymous_activity ${on_cluster} AS
${served_view_anonymous_activity}
