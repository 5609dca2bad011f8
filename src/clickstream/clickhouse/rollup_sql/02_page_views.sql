-- rollup_page_views: day, page_url, views, users, anonymous_views
SELECT
    toDate(event_time) AS day,
    page_url,
    count() AS views,
    uniqExactIf(user_id, user_id != '') AS users,
    countIf(user_id = '') AS anonymous_views
FROM ${database}.events FINAL
WHERE event_type = 'page_view'${where}
GROUP BY day, page_url
