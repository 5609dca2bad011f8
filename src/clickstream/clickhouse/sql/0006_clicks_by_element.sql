-- Clicks on interface elements (films, trailers, persons...) by element and page, per day.
CREATE VIEW IF NOT EXISTS ${database}.clicks_by_element ${on_cluster} AS
SELECT
    toDate(event_time) AS day,
    element,
    page_url,
    count() AS clicks,
    uniqExactIf(user_id, user_id != '') AS users,
    countIf(user_id = '') AS anonymous_clicks
FROM ${database}.events FINAL
WHERE event_type = 'click'
GROUP BY day, element, page_url
