-- rollup_time_on_page: day, page_url, views, timed_views, untimed_views, total_seconds, avg_seconds, median_seconds
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
    WHERE event_type = 'page_view' AND user_id != ''${where}
    GROUP BY user_id, toDate(event_time)
)
ARRAY JOIN times AS viewed_at, pages AS page_url, gaps AS seconds
GROUP BY day, page_url
