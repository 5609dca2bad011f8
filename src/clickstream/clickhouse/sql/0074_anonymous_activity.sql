-- Per day, the activity of each anonymous visitor (no user_id) by anonymous_id.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_anonymous_activity; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.anonymous_activity ${on_cluster} AS
SELECT day, anonymous_id, events, page_views, first_seen, last_seen
FROM ${database}.rollup_anonymous_activity
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'anonymous_activity')
UNION ALL
SELECT day, anonymous_id, events, page_views, first_seen, last_seen
FROM
(
    SELECT
        toDate(event_time) AS day,
        anonymous_id,
        count() AS events,
        countIf(event_type = 'page_view') AS page_views,
        min(event_time) AS first_seen,
        max(event_time) AS last_seen
    FROM ${database}.events FINAL
    WHERE user_id = '' AND anonymous_id != ''
        AND event_time >= (
            SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
            FROM ${database}.rollup_arrived
            WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'anonymous_activity')
        )
        AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'anonymous_activity')
    GROUP BY day, anonymous_id
)
