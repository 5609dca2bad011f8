-- Time spent on a page = the gap to the same user's next page view of the same UTC
-- day, when that gap is at most 30 minutes. A longer gap ends the visit: the last page
-- of a visit has no measurable time and is counted in `untimed_views`, not in the
-- averages. Visits are cut at UTC midnight (as sessions are), so one day's numbers
-- depend on that day's events only and a day can be rolled up alone. Anonymous views
-- are left out (no user to follow). ClickHouse 18.16 has no window functions, so each
-- user's views of a day are sorted in an array.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_time_on_page; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.time_on_page ${on_cluster} AS
SELECT day, page_url, views, timed_views, untimed_views, total_seconds, avg_seconds, median_seconds
FROM ${database}.rollup_time_on_page
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'time_on_page')
UNION ALL
SELECT day, page_url, views, timed_views, untimed_views, total_seconds, avg_seconds, median_seconds
FROM
(
    SELECT
        toDate(viewed_at) AS day,
        page_url,
        count() AS views,
        countIf(seconds >= 0) AS timed_views,
        countIf(seconds < 0) AS untimed_views,
        sumIf(seconds, seconds >= 0) AS total_seconds,
        avgIf(seconds, seconds >= 0) AS avg_seconds,
        quantileExactIf(0.5)(seconds, seconds >= 0) AS median_seconds
    FROM
    (
        SELECT
            arraySort(groupArray(event_time)) AS times,
            arraySort((page, time) -> time, groupArray(page_url), groupArray(event_time)) AS pages,
            arrayMap(
                i -> if(i < length(times) AND times[i + 1] - times[i] <= 1800,
                        toInt64(times[i + 1]) - toInt64(times[i]), toInt64(-1)),
                arrayEnumerate(times)) AS gaps
        FROM ${database}.events FINAL
        WHERE event_type = 'page_view' AND user_id != ''
            AND event_time >= (
                SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
                FROM ${database}.rollup_arrived
                WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'time_on_page')
            )
            AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'time_on_page')
        GROUP BY user_id, toDate(event_time)
    )
    ARRAY JOIN times AS viewed_at, pages AS page_url, gaps AS seconds
    GROUP BY day, page_url
)
