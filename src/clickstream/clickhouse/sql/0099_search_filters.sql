-- search_filters, served from rollup_search_filters for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.search_filters ${on_cluster} AS
${served_view_search_filters}
