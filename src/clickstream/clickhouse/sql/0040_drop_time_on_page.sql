-- `time_on_page` becomes rollup-backed (next migration); `time_on_page_raw` keeps the old way.
DROP TABLE IF EXISTS ${database}.time_on_page ${on_cluster}
