"""The analyst questions, each written once and rendered into every statement that asks it.

A question is one SELECT over `${events}` (a table read, `FINAL` included) with
`${where}` where a time restriction joins its event filter. From it come:

- the `<name>_raw` view: the whole history through `events FINAL` (the reference);
- the rollup job's build: the same over the days being built (`build_sql`);
- the `<name>` view (`served_sql`, rendered into its migration): the rollup rows
  of the days whose latest build is still fresh, today live from the small
  day-partitioned `events_recent`, and any other stale day live from `events`.

Every question groups by `day` and a day's numbers depend on that day's events
only, so the three parts of a view cover disjoint days and simply add up.

Which days are fresh is `days_sql`: one read of the small `rollup_ledger`
(arrivals per day, builds per rollup and day, erasures per day), the same text
in every part of a view so that modern ClickHouse computes it once per query.
A day is fresh for a rollup when its latest build counted at least the rows
stored for the day by now (a late event makes it stale at once) and started
after the last erasure touching the day finished.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from string import Template

# A date no event reaches: the live part's lower bound when no closed day is stale.
_NEVER = "toDate('2105-12-31')"


def _indent(sql: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line if line else line for line in sql.splitlines())


@dataclass(frozen=True)
class Rollup:
    """One analyst question: view `name`, table `rollup_<name>` (build_id, then `columns`)."""

    name: str
    columns: tuple[str, ...]
    select: str

    @property
    def table(self) -> str:
        return f"rollup_{self.name}"

    def query(self, events: str, where: str = "") -> str:
        """The question over `events` (e.g. `db.events FINAL`), `where` added to each read."""
        return Template(self.select).substitute(events=events, where=where)

    def raw_sql(self, database: str) -> str:
        return self.query(f"{database}.events FINAL")

    def build_sql(self, database: str, days: Iterable[date], build_id: int) -> str:
        """Rebuild `days` in one statement: one read of their partitions, not one per day."""
        chosen = sorted(set(days))
        start, end = chosen[0].isoformat(), (chosen[-1] + timedelta(days=1)).isoformat()
        listed = ", ".join(f"toDate('{day.isoformat()}')" for day in chosen)
        where = (
            f"\n    AND event_time >= toDateTime('{start} 00:00:00', 'UTC')"
            f" AND event_time < toDateTime('{end} 00:00:00', 'UTC')"
            f"\n    AND toDate(event_time) IN ({listed})"
        )
        columns = ", ".join(self.columns)
        return (
            f"INSERT INTO {database}.{self.table} (build_id, {columns})\n"
            f"SELECT toUInt64({build_id}) AS build_id, {columns}\n"
            f"FROM\n(\n{self.query(f'{database}.events FINAL', where)}\n)"
        )

    def days_sql(self, database: str) -> str:
        """(day, build_id) for every day the ledger knows: the build to serve, or 0 (live).

        argMaxIf picks the latest build's numbers; a day without a build has
        latest_build 0, as has a day with rows or an erasure since its build.
        """
        name = f"'{self.name}'"
        return f"""SELECT day, if(fresh, latest_build, toUInt64(0)) AS build_id
FROM
(
    SELECT
        day,
        maxIf(build_id, rollup_name = {name}) AS latest_build,
        latest_build > 0
            AND argMaxIf(rows_seen, build_id, rollup_name = {name}) >= sumMerge(arrived_rows)
            AND max(erased_at) < argMaxIf(started_at, build_id, rollup_name = {name}) AS fresh
    FROM {database}.rollup_ledger
    WHERE rollup_name IN ('', {name})
    GROUP BY day
)"""

    def served_sql(self, database: str) -> str:
        """The body of the `<name>` view."""
        columns = ", ".join(self.columns)
        days = _indent(self.days_sql(database), 4)
        recent = self.query(
            f"{database}.events_recent FINAL",
            "\n    AND event_time >= toDateTime(today(), 'UTC')",
        )
        # 18.16 folds the scalar bound before index analysis: months before the
        # first stale day are never read, and none at all when no closed day is stale.
        stale = self.query(
            f"{database}.events FINAL",
            "\n    AND event_time >= (\n"
            f"        SELECT toDateTime(if(count() = 0, {_NEVER}, min(day)), 'UTC')\n"
            f"        FROM\n        (\n{_indent(days, 4)}\n        )\n"
            "        WHERE build_id = 0 AND day < today()\n    )"
            "\n    AND event_time < toDateTime(today(), 'UTC')"
            f"\n    AND (toDate(event_time), toUInt64(0)) IN\n    (\n{days}\n    )",
        )
        return (
            f"SELECT {columns}\nFROM {database}.{self.table}\n"
            f"WHERE day < today() AND (day, build_id) IN\n(\n{days}\n)\n"
            f"UNION ALL\nSELECT {columns}\nFROM\n(\n{_indent(recent, 4)}\n)\n"
            f"UNION ALL\nSELECT {columns}\nFROM\n(\n{_indent(stale, 4)}\n)"
        )


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
