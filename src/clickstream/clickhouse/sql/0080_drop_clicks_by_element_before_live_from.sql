-- `clicks_by_element` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.clicks_by_element ${on_cluster}
