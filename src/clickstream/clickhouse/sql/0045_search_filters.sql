-- Use of search filters by filter type and value, per day.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_search_filters; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.search_filters ${on_cluster} AS
SELECT day, filter_type, filter_value, uses, users
FROM ${database}.rollup_search_filters
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'search_filters')
UNION ALL
SELECT day, filter_type, filter_value, uses, users
FROM
(
    SELECT
        toDate(event_time) AS day,
        filter_type,
        filter_value,
        count() AS uses,
        uniqExactIf(user_id, user_id != '') AS users
    FROM ${database}.events FINAL
    WHERE event_type = 'search_filter_use'
        AND event_time >= (
            SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
            FROM ${database}.rollup_arrived
            WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'search_filters')
        )
        AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'search_filters')
    GROUP BY day, filter_type, filter_value
)
