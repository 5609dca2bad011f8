-- `identity_links` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.identity_links ${on_cluster}
