-- `page_views` becomes rollup-backed (next migration); `page_views_raw` keeps the old way.
DROP TABLE IF EXISTS ${database}.page_views ${on_cluster}
