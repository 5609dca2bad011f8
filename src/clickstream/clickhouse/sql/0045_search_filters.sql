-- Use of search filters by filter type and value, per day.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_search_filters; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.search_filters ${on_cluster} AS
${served_v1_search_filters}
