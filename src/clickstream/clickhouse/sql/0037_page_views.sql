-- Page views per page and day, every visitor (anonymous ones included).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_page_views; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.page_views ${on_cluster} AS
SELECT day, page_url, views, users, anonymous_views
FROM ${database}.rollup_page_views
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'page_views')
UNION ALL
SELECT day, page_url, views, users, anonymous_views
FROM
(
    SELECT
        toDate(event_time) AS day,
        page_url,
        count() AS views,
        uniqExactIf(user_id, user_id != '') AS users,
        countIf(user_id = '') AS anonymous_views
    FROM ${database}.events FINAL
    WHERE event_type = 'page_view'
        AND event_time >= (
            SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
            FROM ${database}.rollup_arrived
            WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'page_views')
        )
        AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'page_views')
    GROUP BY day, page_url
)
