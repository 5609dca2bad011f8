-- drop_off, served from rollup_drop_off for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.drop_off ${on_cluster} AS
${served_view_drop_off}
