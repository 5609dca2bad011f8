-- `anonymous_activity` is served from the latest builds before `rollup_live_from` (next migration).
DROP TABLE IF EXISTS ${database}.anonymous_activity ${on_cluster}
