-- Page views per page and day, every visitor (anonymous ones included).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_page_views; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.page_views ${on_cluster} AS
${served_v1_page_views}
