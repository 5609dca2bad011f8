-- Page views per page and day, every visitor (anonymous ones included).
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `page_views` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.page_views_raw ${on_cluster} AS
SELECT
    toDate(event_time) AS day,
    page_url,
    count() AS views,
    uniqExactIf(user_id, user_id != '') AS users,
    countIf(user_id = '') AS anonymous_views
FROM ${database}.events FINAL
WHERE event_type = 'page_view'
GROUP BY day, page_url
