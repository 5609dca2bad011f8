-- Page views per page and day, every visitor (anonymous ones included).
CREATE VIEW IF NOT EXISTS ${database}.page_views ${on_cluster} AS
SELECT
    toDate(event_time) AS day,
    page_url,
    count() AS views,
    uniqExactIf(user_id, user_id != '') AS users,
    countIf(user_id = '') AS anonymous_views
FROM ${database}.events FINAL
WHERE event_type = 'page_view'
GROUP BY day, page_url
