-- page_views, served from rollup_page_views for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.page_views ${on_cluster} AS
${served_view_page_views}
