-- clicks_by_element, served from rollup_clicks_by_element for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.clicks_by_element ${on_cluster} AS
${served_view_clicks_by_element}
