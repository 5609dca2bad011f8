"""The thirteen analyst questions, each one SELECT written once (see questions.py).

docs/analytics.md shows what each answers, with an example; questions.py turns
each into its rollup build, its `_raw` twin and the view analysts query.
"""

from __future__ import annotations

from clickstream.clickhouse.questions import Rollup

ROLLUPS: tuple[Rollup, ...] = (
    Rollup(
        "clicks_by_element",
        ("day", "element", "page_url", "clicks", "users", "anonymous_clicks"),
        """SELECT
    toDate(event_time) AS day,
    element,
    page_url,
    count() AS clicks,
    uniqExactIf(user_id, user_id != '') AS users,
    countIf(user_id = '') AS anonymous_clicks
FROM ${events}
WHERE event_type = 'click'${where}
GROUP BY day, element, page_url""",
    ),
    Rollup(
        "page_views",
        ("day", "page_url", "views", "users", "anonymous_views"),
        """SELECT
    toDate(event_time) AS day,
    page_url,
    count() AS views,
    uniqExactIf(user_id, user_id != '') AS users,
    countIf(user_id = '') AS anonymous_views
FROM ${events}
WHERE event_type = 'page_view'${where}
GROUP BY day, page_url""",
    ),
    Rollup(
        "time_on_page",
        (
            "day",
            "page_url",
            "views",
            "timed_views",
            "untimed_views",
            "total_seconds",
            "avg_seconds",
            "median_seconds",
        ),
        """SELECT
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
    FROM ${events}
    WHERE event_type = 'page_view' AND user_id != ''${where}
    GROUP BY user_id, toDate(event_time)
)
ARRAY JOIN times AS viewed_at, pages AS page_url, gaps AS seconds
GROUP BY day, page_url""",
    ),
    Rollup(
        "search_filters",
        ("day", "filter_type", "filter_value", "uses", "users"),
        """SELECT
    toDate(event_time) AS day,
    filter_type,
    filter_value,
    count() AS uses,
    uniqExactIf(user_id, user_id != '') AS users
FROM ${events}
WHERE event_type = 'search_filter_use'${where}
GROUP BY day, filter_type, filter_value""",
    ),
    Rollup(
        "quality_changes",
        ("day", "from_quality", "to_quality", "device", "country", "direction", "changes", "users"),
        r"""SELECT
    toDate(event_time) AS day,
    from_quality,
    to_quality,
    device,
    country,
    multiIf(from_rank = 0 OR to_rank = 0, 'unknown',
            to_rank > from_rank, 'up',
            to_rank < from_rank, 'down', 'same') AS direction,
    count() AS changes,
    uniqExactIf(user_id, user_id != '') AS users
FROM
(
    SELECT
        event_time, from_quality, to_quality, device, country, user_id,
        multiIf(lower(from_quality) = '4k', 2160, lower(from_quality) = '8k', 4320,
                toUInt32OrZero(extract(from_quality, '(\\d+)'))) AS from_rank,
        multiIf(lower(to_quality) = '4k', 2160, lower(to_quality) = '8k', 4320,
                toUInt32OrZero(extract(to_quality, '(\\d+)'))) AS to_rank
    FROM ${events}
    WHERE event_type = 'quality_change'${where}
)
GROUP BY day, from_quality, to_quality, device, country, direction""",
    ),
    Rollup(
        "videos_completed",
        ("day", "video_id", "completions", "users", "avg_duration_s"),
        """SELECT
    toDate(event_time) AS day,
    video_id,
    count() AS completions,
    uniqExactIf(user_id, user_id != '') AS users,
    avg(duration_s) AS avg_duration_s
FROM ${events}
WHERE event_type = 'video_complete'${where}
GROUP BY day, video_id""",
    ),
    Rollup(
        "engaged_time_on_page",
        ("day", "page_url", "method", "views", "timed_views", "total_seconds", "avg_seconds"),
        """SELECT
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
            FROM ${events}
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
        FROM ${events}
        WHERE event_type = 'page_engagement' AND page_view_id != ''${where}
        GROUP BY page_view_id, day
    ) AS engaged USING (page_view_id, day)
)
GROUP BY day, page_url, method""",
    ),
    Rollup(
        "sessions",
        (
            "day",
            "source",
            "sessions",
            "total_duration_s",
            "avg_duration_s",
            "page_views",
            "pages_per_session",
            "bounces",
            "bounce_rate",
        ),
        """SELECT
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
    FROM ${events}
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
        FROM ${events}
        WHERE session_id = '' AND (user_id != '' OR anonymous_id != '')${where}
        GROUP BY visitor, day
    )
    ARRAY JOIN times AS time, types AS type, numbers AS session_number
    GROUP BY visitor, day, session_number
)
GROUP BY day, source""",
    ),
    Rollup(
        "watch_time",
        (
            "day",
            "video_id",
            "starts",
            "playbacks",
            "viewers",
            "watch_seconds",
            "completions",
            "completion_rate",
        ),
        """SELECT
    toDate(event_time) AS day,
    video_id,
    countIf(event_type = 'video_start') AS starts,
    uniqExactIf(playback_id, playback_id != '') AS playbacks,
    uniqExactIf(user_id, user_id != '') AS viewers,
    sumIf(played_ms, event_type = 'video_heartbeat') / 1000 AS watch_seconds,
    countIf(event_type = 'video_complete') AS completions,
    if(starts = 0, nan, completions / starts) AS completion_rate
FROM ${events}
WHERE event_type IN ('video_start', 'video_heartbeat', 'video_complete')${where}
GROUP BY day, video_id""",
    ),
    Rollup(
        "drop_off",
        ("day", "video_id", "pct", "playbacks", "watching", "share"),
        """SELECT
    day,
    video_id,
    pct,
    count() AS playbacks,
    countIf(reached_pct >= pct) AS watching,
    watching / playbacks AS share
FROM
(
    SELECT
        toDate(event_time) AS day,
        video_id,
        playback_id,
        max(position_s) / max(duration_s) * 100 AS reached_pct
    FROM ${events}
    WHERE event_type IN ('video_start', 'video_heartbeat') AND playback_id != ''${where}
    GROUP BY day, video_id, playback_id
    HAVING max(duration_s) > 0
)
ARRAY JOIN arrayMap(step -> toUInt8(step * 5), range(21)) AS pct
GROUP BY day, video_id, pct""",
    ),
    Rollup(
        "quality_per_hour",
        (
            "day",
            "device",
            "country",
            "hours_watched",
            "switches",
            "upgrades",
            "downgrades",
            "switches_per_hour",
        ),
        r"""SELECT
    toDate(event_time) AS day,
    device_kind AS device,
    country,
    sumIf(played_ms, event_type = 'video_heartbeat') / 3600000 AS hours_watched,
    countIf(event_type = 'quality_change') AS switches,
    countIf(event_type = 'quality_change' AND from_rank > 0 AND to_rank > from_rank) AS upgrades,
    countIf(event_type = 'quality_change' AND to_rank > 0 AND to_rank < from_rank) AS downgrades,
    if(hours_watched = 0, nan, switches / hours_watched) AS switches_per_hour
FROM
(
    SELECT
        event_time, event_type, country, played_ms,
        if(device_class != '', device_class, device) AS device_kind,
        multiIf(lower(from_quality) = '4k', 2160, lower(from_quality) = '8k', 4320,
                toUInt32OrZero(extract(from_quality, '(\\d+)'))) AS from_rank,
        multiIf(lower(to_quality) = '4k', 2160, lower(to_quality) = '8k', 4320,
                toUInt32OrZero(extract(to_quality, '(\\d+)'))) AS to_rank
    FROM ${events}
    WHERE event_type IN ('quality_change', 'video_heartbeat')${where}
)
GROUP BY day, device, country""",
    ),
    Rollup(
        "identity_links",
        ("day", "anonymous_id", "identified_as", "linked_at"),
        """SELECT
    toDate(event_time) AS day,
    anonymous_id,
    argMax(user_id, concat(toString(event_time), user_id)) AS identified_as,
    max(event_time) AS linked_at
FROM ${events}
WHERE anonymous_id != '' AND user_id != ''${where}
GROUP BY day, anonymous_id""",
    ),
    Rollup(
        "anonymous_activity",
        ("day", "anonymous_id", "events", "page_views", "first_seen", "last_seen"),
        """SELECT
    toDate(event_time) AS day,
    anonymous_id,
    count() AS events,
    countIf(event_type = 'page_view') AS page_views,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM ${events}
WHERE user_id = '' AND anonymous_id != ''${where}
GROUP BY day, anonymous_id""",
    ),
)
