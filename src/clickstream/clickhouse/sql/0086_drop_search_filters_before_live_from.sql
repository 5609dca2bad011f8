-- `search_filters` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.search_filters ${on_cluster}
