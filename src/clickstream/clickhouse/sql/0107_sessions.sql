-- sessions, served from rollup_sessions for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.sessions ${on_cluster} AS
${served_view_sessions}
