-- `engaged_time_on_page` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.engaged_time_on_page ${on_cluster}
