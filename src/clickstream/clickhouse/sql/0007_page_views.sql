-- Page views per page and day, every visitor (anonymous ones included).
CREATE VIEW IF NOT EXISTS ${database}.page_views ${on_cluster} AS
${raw_page_views}
