-- Time on page from visible engaged time: a page view with page_engagement reports
-- (same page_view_id, same UTC day) counts the sum of their engaged_ms (method
-- 'engaged'); one without falls back to the gap to the visitor's next page view of
-- the day, at most 30 minutes (method 'gap'; the visitor is user_id, else
-- anonymous_id; a view with neither, or ending a visit, is untimed).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_engaged_time_on_page; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.engaged_time_on_page ${on_cluster} AS
${served_v1_engaged_time_on_page}
