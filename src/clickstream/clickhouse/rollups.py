"""`clickstream rollup`: rebuilds closed days of the analyst rollups from `events FINAL`.

Exact by construction: a day's rollup rows are computed from `events FINAL`
restricted to that day, so they count what FINAL counts (a retried event, same
event_id, is one row after FINAL, so one in the rollup). Which days need a
build is the `rollup_fresh` view's business (migration 0029): a day is fresh
for a rollup when its latest build started after the last row of that day
arrived (by count, `rollup_arrived`) and after the last erasure touching it
finished. This job rebuilds every closed day (before today, UTC) that is not
fresh; the analyst views compute the others live meanwhile.

Safe to run twice at once: each build writes under its own build_id and is
recorded only after its rows are in; the views read the latest recorded build
of a day, the others are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from string import Template
from typing import Any, Protocol

from clickstream.clickhouse.client import ClickHouse, ClickHouseError
from clickstream.config import ClickHouseSettings

log = logging.getLogger(__name__)

# Rollup tables are small and every node holds them whole; the events read
# goes through the Distributed table, whose insert settings do not matter here.
_INSERT_SETTINGS = {"insert_distributed_sync": 1}
# build_id = server seconds * this + random: ordered by start, unique in practice.
_BUILD_ID_SPREAD = 1_000_000


@dataclass(frozen=True)
class Rollup:
    """One analyst question: view `name`, table `rollup_<name>` (build_id, then `columns`).

    `select` is the question over `${database}.events FINAL`; `${where}` marks where a
    day restriction is appended to its event filter. The `<name>_raw` view runs
    it as is and the `<name>` view runs it live for stale days (a unit test
    holds the migration files to this text).
    """

    name: str
    columns: tuple[str, ...]
    select: str

    @property
    def table(self) -> str:
        return f"rollup_{self.name}"

    def query(self, database: str, where: str = "") -> str:
        return Template(self.select).substitute(database=database, where=where)

    def build_sql(self, database: str, day: date, build_id: int) -> str:
        start, end = day.isoformat(), (day + timedelta(days=1)).isoformat()
        where = (
            f"\n    AND event_time >= toDateTime('{start} 00:00:00', 'UTC')"
            f" AND event_time < toDateTime('{end} 00:00:00', 'UTC')"
        )
        columns = ", ".join(self.columns)
        return (
            f"INSERT INTO {database}.{self.table} (build_id, {columns})\n"
            f"SELECT toUInt64({build_id}) AS build_id, {columns}\n"
            f"FROM\n(\n{self.query(database, where)}\n)"
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
FROM ${database}.events FINAL
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
FROM ${database}.events FINAL
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
    FROM ${database}.events FINAL
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
FROM ${database}.events FINAL
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
    FROM ${database}.events FINAL
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
FROM ${database}.events FINAL
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
FROM ${database}.events FINAL
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
    FROM ${database}.events FINAL
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
    FROM ${database}.events FINAL
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
FROM ${database}.events FINAL
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
FROM ${database}.events FINAL
WHERE user_id = '' AND anonymous_id != ''${where}
GROUP BY day, anonymous_id""",
    ),
)


class Sql(Protocol):
    """What the job needs of a connection: the ClickHouse client, or chDB in tests.

    The job asks for plain strings and integers only (`toString(day)`), so any
    driver's result types will do.
    """

    async def execute(
        self, query: str, *, settings: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class Snapshot:
    """What a day looked like when its build started (read before events FINAL).

    Times are server clock, in seconds since the epoch: the erasure and build
    times compared in rollup_fresh must come from one clock.
    """

    day: date
    started_at_s: int
    rows_seen: int
    watermark_s: int

    def build_id(self, rng: random.Random) -> int:
        return self.started_at_s * _BUILD_ID_SPREAD + rng.randrange(_BUILD_ID_SPREAD)


def stale(
    arrived_days: Iterable[date],
    fresh: Iterable[tuple[str, date]],
    today: date,
    rollups: Iterable[Rollup] = ROLLUPS,
) -> dict[date, list[Rollup]]:
    """Closed days with arrivals whose rollups have no fresh build, oldest first."""
    fresh_set = set(fresh)
    names = list(rollups)
    found: dict[date, list[Rollup]] = {}
    for day in sorted(set(arrived_days)):
        if day >= today:
            continue
        missing = [rollup for rollup in names if (rollup.name, day) not in fresh_set]
        if missing:
            found[day] = missing
    return found


class RollupJob:
    def __init__(
        self,
        clickhouse: Sql,
        database: str,
        *,
        rollups: tuple[Rollup, ...] = ROLLUPS,
        rng: random.Random | None = None,
    ) -> None:
        self._clickhouse = clickhouse
        self._database = database
        self._rollups = rollups
        self._rng = rng or random.Random()

    async def run_once(self) -> list[tuple[str, date]]:
        """Rebuild every stale closed day; returns the (rollup, day) pairs built."""
        db = self._database
        ((today,),) = await self._clickhouse.execute("SELECT toString(today())")
        arrived = await self._clickhouse.execute(f"SELECT toString(day) FROM {db}.rollup_arrived")
        fresh = await self._clickhouse.execute(
            f"SELECT rollup_name, toString(day) FROM {db}.rollup_fresh"
        )
        todo = stale(
            (date.fromisoformat(row[0]) for row in arrived),
            ((row[0], date.fromisoformat(row[1])) for row in fresh),
            date.fromisoformat(today),
            self._rollups,
        )
        built: list[tuple[str, date]] = []
        for day, rollups in todo.items():
            snapshot = await self._snapshot(day)
            for rollup in rollups:
                await self._build(rollup, snapshot)
                built.append((rollup.name, day))
        return built

    async def _snapshot(self, day: date) -> Snapshot:
        ((started_at_s, rows_seen, watermark_s),) = await self._clickhouse.execute(
            "SELECT toUInt32(now()), arrived_rows, toUInt32(last_received_at) "
            f"FROM {self._database}.rollup_arrived WHERE day = toDate('{day.isoformat()}')"
        )
        return Snapshot(day, int(started_at_s), int(rows_seen), int(watermark_s))

    async def _build(self, rollup: Rollup, snapshot: Snapshot) -> None:
        db, day = self._database, snapshot.day.isoformat()
        build_id = snapshot.build_id(self._rng)
        await self._clickhouse.execute(
            rollup.build_sql(db, snapshot.day, build_id), settings=_INSERT_SETTINGS
        )
        # Recorded only once the rows are in: until then the views ignore them.
        await self._clickhouse.execute(
            f"INSERT INTO {db}.rollup_builds "
            "(rollup_name, day, build_id, rows_seen, watermark, started_at, built_at) "
            f"SELECT '{rollup.name}', toDate('{day}'), toUInt64({build_id}), "
            f"toUInt64({snapshot.rows_seen}), "
            f"toDateTime({snapshot.watermark_s}, 'UTC'), "
            f"toDateTime({snapshot.started_at_s}, 'UTC'), now()",
            settings=_INSERT_SETTINGS,
        )
        log.info("built %s for %s (build %d)", rollup.name, day, build_id)

    async def backfill_arrivals(self) -> None:
        """Count the days stored before the arrivals view existed (an upgraded database).

        Scans the whole history once. A day it counts twice only gets rebuilt
        once more, so racing the ETL is harmless.
        """
        db = self._database
        await self._clickhouse.execute(
            f"INSERT INTO {db}.rollup_arrivals "
            "SELECT toDate(event_time) AS day, countState(), "
            "sumState(cityHash64(toString(event_id))), maxState(received_at) "
            f"FROM {db}.events WHERE toDate(event_time) NOT IN (SELECT day FROM {db}.rollup_arrived) "
            "GROUP BY day",
            settings=_INSERT_SETTINGS,
        )


async def run(
    settings: ClickHouseSettings, *, interval_s: float, once: bool, backfill: bool = False
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with ClickHouse(settings) as clickhouse:
        job = RollupJob(clickhouse, settings.database)
        if backfill:
            await job.backfill_arrivals()
        while True:
            try:
                built = await job.run_once()
                log.info("rollup pass: %d build(s)", len(built))
            except ClickHouseError:
                if once:
                    raise
                # Nothing half-done is visible (a build counts once recorded):
                # the next pass simply tries again.
                log.exception("rollup pass failed; retrying in %.0f s", interval_s)
            if once:
                return 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            if stop.is_set():
                return 0
