-- rollup_engaged_time_on_page: day, page_url, method, views, timed_views, total_seconds, avg_seconds
SELECT
    day,
    page_url,
    if(has_engagement = 1, 'engaged', 'gap') AS method,
    count() AS views,
    countIf(seconds >= 0) AS timed_views,
    sumIf(seconds, seconds >= 0) AS total_seconds,
    avgIf(seconds, seconds >= 0) AS avg_seconds
FROM
(
    SELECT
        day,
        page_url,
        has_engagement,
        if(has_engagement = 1, engaged_seconds, gap_seconds) AS seconds
    FROM
    (
        SELECT toDate(viewed_at) AS day, page_url, page_view_id, gap_seconds
        FROM
        (
            SELECT
                if(user_id != '', user_id, anonymous_id) AS visitor,
                arraySort(groupArray(event_time)) AS times,
                arraySort((page, time) -> time, groupArray(page_url), groupArray(event_time))
                    AS pages,
                arraySort((id, time) -> time, groupArray(page_view_id), groupArray(event_time))
                    AS ids,
                arrayMap(
                    i -> if(visitor != '' AND i < length(times) AND times[i + 1] - times[i] <= 1800,
                            toInt64(times[i + 1]) - toInt64(times[i]), toInt64(-1)),
                    arrayEnumerate(times)) AS gaps
            FROM ${database}.events FINAL
            WHERE event_type = 'page_view'${where}
            GROUP BY visitor, toDate(event_time)
        )
        ARRAY JOIN times AS viewed_at, pages AS page_url, ids AS page_view_id, gaps AS gap_seconds
    ) AS viewed
    ANY LEFT JOIN
    (
        SELECT
            page_view_id,
            toDate(event_time) AS day,
            toInt64(intDiv(sum(engaged_ms), 1000)) AS engaged_seconds,
            toUInt8(1) AS has_engagement
        FROM ${database}.events FINAL
        WHERE event_type = 'page_engagement' AND page_view_id != ''${where}
        GROUP BY page_view_id, day
    ) AS engaged USING (page_view_id, day)
)
GROUP BY day, page_url, method
