-- rollup_anonymous_activity: day, anonymous_id, events, page_views, first_seen, last_seen
SELECT
    toDate(event_time) AS day,
    anonymous_id,
    count() AS events,
    countIf(event_type = 'page_view') AS page_views,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM ${database}.events FINAL
WHERE user_id = '' AND anonymous_id != ''${where}
GROUP BY day, anonymous_id
