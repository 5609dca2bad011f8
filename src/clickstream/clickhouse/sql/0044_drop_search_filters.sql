-- `search_filters` becomes rollup-backed (next migration); `search_filters_raw` keeps the old way.
DROP TABLE IF EXISTS ${database}.search_filters ${on_cluster}
