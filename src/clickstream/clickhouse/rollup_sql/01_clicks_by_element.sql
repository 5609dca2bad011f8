-- rollup_clicks_by_element: day, element, page_url, clicks, users, anonymous_clicks
SELECT
    toDate(event_time) AS day,
    element,
    page_url,
    count() AS clicks,
    uniqExactIf(user_id, user_id != '') AS users,
    countIf(user_id = '') AS anonymous_clicks
FROM ${database}.events FINAL
WHERE event_type = 'click'${where}
GROUP BY day, element, page_url
