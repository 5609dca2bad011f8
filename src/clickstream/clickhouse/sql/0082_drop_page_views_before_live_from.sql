-- `page_views` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.page_views ${on_cluster}
