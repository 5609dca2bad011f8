-- Time spent on a page = the gap to the same user's next page view of the same UTC
-- day, when that gap is at most 30 minutes. A longer gap ends the visit: the last page
-- of a visit has no measurable time and is counted in `untimed_views`, not in the
-- averages. Visits are cut at UTC midnight (as sessions are), so one day's numbers
-- depend on that day's events only and a day can be rolled up alone. Anonymous views
-- are left out (no user to follow). ClickHouse 18.16 has no window functions, so each
-- user's views of a day are sorted in an array.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `time_on_page` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.time_on_page_raw ${on_cluster} AS
${raw_time_on_page}
