-- Per day, the activity of each anonymous visitor (no user_id) by anonymous_id.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `anonymous_activity` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.anonymous_activity_raw ${on_cluster} AS
SELECT
    toDate(event_time) AS day,
    anonymous_id,
    count() AS events,
    countIf(event_type = 'page_view') AS page_views,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM ${database}.events FINAL
WHERE user_id = '' AND anonymous_id != ''
GROUP BY day, anonymous_id
