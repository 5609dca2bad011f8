-- rollup_sessions: day, source, sessions, total_duration_s, avg_duration_s, page_views, pages_per_session, bounces, bounce_rate
SELECT
    day,
    source,
    count() AS sessions,
    sum(duration_s) AS total_duration_s,
    avg(duration_s) AS avg_duration_s,
    sum(pages) AS page_views,
    avg(pages) AS pages_per_session,
    countIf(pages <= 1 AND actions = 0) AS bounces,
    bounces / sessions AS bounce_rate
FROM
(
    SELECT
        toDate(event_time) AS day,
        'session_id' AS source,
        toUInt64(max(event_time) - min(event_time)) AS duration_s,
        countIf(event_type = 'page_view') AS pages,
        countIf(event_type NOT IN ('page_view', 'page_engagement')) AS actions
    FROM ${database}.events FINAL
    WHERE session_id != ''${where}
    GROUP BY session_id, day
    UNION ALL
    SELECT
        day,
        'gap' AS source,
        toUInt64(max(time) - min(time)) AS duration_s,
        countIf(type = 'page_view') AS pages,
        countIf(type NOT IN ('page_view', 'page_engagement')) AS actions
    FROM
    (
        SELECT
            if(user_id != '', user_id, anonymous_id) AS visitor,
            toDate(event_time) AS day,
            arraySort(groupArray(event_time)) AS times,
            arraySort((kind, time) -> time, groupArray(event_type), groupArray(event_time)) AS types,
            arrayCumSum(arrayMap(i -> toUInt32(i = 1 OR times[i] - times[i - 1] > 1800),
                                 arrayEnumerate(times))) AS numbers
        FROM ${database}.events FINAL
        WHERE session_id = '' AND (user_id != '' OR anonymous_id != '')${where}
        GROUP BY visitor, day
    )
    ARRAY JOIN times AS time, types AS type, numbers AS session_number
    GROUP BY visitor, day, session_number
)
GROUP BY day, source
