-- `clicks_by_element` becomes rollup-backed (next migration); `clicks_by_element_raw` keeps the old way.
DROP TABLE IF EXISTS ${database}.clicks_by_element ${on_cluster}
