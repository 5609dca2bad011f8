-- Clicks on interface elements (films, trailers, persons...) by element and page, per day.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_clicks_by_element; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.clicks_by_element ${on_cluster} AS
SELECT day, element, page_url, clicks, users, anonymous_clicks
FROM ${database}.rollup_clicks_by_element
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'clicks_by_element')
UNION ALL
SELECT day, element, page_url, clicks, users, anonymous_clicks
FROM
(
    SELECT
        toDate(event_time) AS day,
        element,
        page_url,
        count() AS clicks,
        uniqExactIf(user_id, user_id != '') AS users,
        countIf(user_id = '') AS anonymous_clicks
    FROM ${database}.events FINAL
    WHERE event_type = 'click'
        AND event_time >= (
            SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
            FROM ${database}.rollup_arrived
            WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'clicks_by_element')
        )
        AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'clicks_by_element')
    GROUP BY day, element, page_url
)
