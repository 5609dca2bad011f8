-- Clicks on interface elements (films, trailers, persons...) by element and page, per day.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `clicks_by_element` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.clicks_by_element_raw ${on_cluster} AS
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
