-- engaged_time_on_page, served from rollup_engaged_time_on_page for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.engaged_time_on_page ${on_cluster} AS
${served_view_engaged_time_on_page}
