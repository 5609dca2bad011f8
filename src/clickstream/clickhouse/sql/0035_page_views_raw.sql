-- Page views per page and day, every visitor (anonymous ones included).
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `page_views` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.page_views_raw ${on_cluster} AS
${raw_page_views}
