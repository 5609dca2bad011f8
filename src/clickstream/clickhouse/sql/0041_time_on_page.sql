-- Time spent on a page = the gap to the same user's next page view of the same UTC
-- day, when that gap is at most 30 minutes. A longer gap ends the visit: the last page
-- of a visit has no measurable time and is counted in `untimed_views`, not in the
-- averages. Visits are cut at UTC midnight (as sessions are), so one day's numbers
-- depend on that day's events only and a day can be rolled up alone. Anonymous views
-- are left out (no user to follow). ClickHouse 18.16 has no window functions, so each
-- user's views of a day are sorted in an array.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_time_on_page; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.time_on_page ${on_cluster} AS
${served_v1_time_on_page}
