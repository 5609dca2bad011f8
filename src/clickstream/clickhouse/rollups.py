"""`clickstream rollup`: rebuilds closed days of the analyst rollups from `events FINAL`.

Exact by construction: a day's rollup rows are computed from `events FINAL`
restricted to that day, so they count what FINAL counts (a retried event, same
event_id, is one row after FINAL, so one in the rollup). Which days a view may
serve from a rollup is `Rollup.days_sql` (questions.py), read from the small
`rollup_ledger`: arrivals per day (fed as rows are stored), builds (written
here), erasures (fed from `erasures`). This job rebuilds every closed day
(before today, UTC) that is not fresh, a month of days per statement; the views
compute the others live meanwhile. It also drops the days of `events_recent`
(today's events, day-partitioned for the views' live part) that no view reads.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from clickstream.clickhouse.client import ClickHouse, ClickHouseError
from clickstream.clickhouse.question_sql import ROLLUPS
from clickstream.clickhouse.questions import Rollup
from clickstream.config import ClickHouseSettings

__all__ = ["ROLLUPS", "Rollup", "RollupJob", "Snapshot", "Sql", "batches", "run", "stale"]

log = logging.getLogger(__name__)

# Rollup tables are small and every node holds them whole; the events read
# goes through the Distributed table, whose insert settings do not matter here.
_INSERT_SETTINGS = {"insert_distributed_sync": 1}
# build_id = server seconds * this + random: ordered by start, unique in practice.
_BUILD_ID_SPREAD = 1_000_000
# events_recent keeps today and yesterday: a view reads it for today only, and a
# day of margin covers the clocks of two nodes disagreeing about midnight.
RECENT_DAYS_KEPT = 2


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
    """What some days looked like when their build started (read before events FINAL).

    Times are server clock, in seconds since the epoch: the erasure and build
    times compared in `Rollup.days_sql` must come from one clock.
    """

    started_at_s: int
    rows_seen: Mapping[date, int]

    def build_id(self, rng: random.Random) -> int:
        return self.started_at_s * _BUILD_ID_SPREAD + rng.randrange(_BUILD_ID_SPREAD)


def stale(
    days: Mapping[str, Iterable[tuple[date, int]]],
    today: date,
    rollups: Iterable[Rollup] = ROLLUPS,
) -> dict[Rollup, list[date]]:
    """Per rollup, its closed days served live (build_id 0 in its days_sql), oldest first."""
    found: dict[Rollup, list[date]] = {}
    for rollup in rollups:
        live = sorted({day for day, build_id in days.get(rollup.name, ()) if build_id == 0})
        closed = [day for day in live if day < today]
        if closed:
            found[rollup] = closed
    return found


def batches(todo: Mapping[Rollup, list[date]]) -> list[dict[Rollup, list[date]]]:
    """The work by calendar month, oldest first: a month is one partition of `events`.

    One statement per rollup and month reads each partition once through FINAL,
    where a statement per day would read the day's whole month every time.
    """
    months: dict[tuple[int, int], dict[Rollup, list[date]]] = {}
    for rollup, days in todo.items():
        for day in days:
            months.setdefault((day.year, day.month), {}).setdefault(rollup, []).append(day)
    return [months[month] for month in sorted(months)]


class RollupJob:
    def __init__(
        self,
        clickhouse: Sql,
        database: str,
        *,
        rollups: tuple[Rollup, ...] = ROLLUPS,
        cluster: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`cluster`: the cluster whose every node holds part of `events_recent` (None: one node)."""
        self._clickhouse = clickhouse
        self._database = database
        self._rollups = rollups
        self._cluster = cluster
        self._rng = rng or random.Random()

    async def days(self) -> dict[str, list[tuple[date, int]]]:
        """Per rollup, every day the ledger knows with the build a view serves (0: live)."""
        found = {}
        for rollup in self._rollups:
            rows = await self._clickhouse.execute(
                f"SELECT toString(day), build_id FROM ({rollup.days_sql(self._database)})"
            )
            found[rollup.name] = [(date.fromisoformat(day), int(build)) for day, build in rows]
        return found

    async def fresh(self) -> set[tuple[str, date]]:
        """The (rollup, day) pairs the views serve from a rollup now."""
        return {
            (name, day)
            for name, days in (await self.days()).items()
            for day, build_id in days
            if build_id
        }

    async def run_once(self) -> list[tuple[str, date]]:
        """Rebuild every stale closed day; returns the (rollup, day) pairs built."""
        ((today_text,),) = await self._clickhouse.execute("SELECT toString(today())")
        today = date.fromisoformat(today_text)
        built: list[tuple[str, date]] = []
        for work in batches(stale(await self.days(), today, self._rollups)):
            snapshot = await self._snapshot({day for days in work.values() for day in days})
            for rollup, days in work.items():
                await self._build(rollup, days, snapshot)
                built.extend((rollup.name, day) for day in days)
        await self._drop_recent_before(today - timedelta(days=RECENT_DAYS_KEPT - 1))
        return built

    async def _snapshot(self, days: set[date]) -> Snapshot:
        listed = ", ".join(f"toDate('{day.isoformat()}')" for day in sorted(days))
        rows = await self._clickhouse.execute(
            "SELECT toUInt32(now()), toString(day), sumMerge(arrived_rows) "
            f"FROM {self._database}.rollup_ledger "
            f"WHERE rollup_name = '' AND day IN ({listed}) GROUP BY day"
        )
        if not rows:  # days with builds only: nothing arrived for them
            ((now,),) = await self._clickhouse.execute("SELECT toUInt32(now())")
            return Snapshot(int(now), {})
        seen = {date.fromisoformat(day): int(count) for _, day, count in rows}
        return Snapshot(int(rows[0][0]), seen)

    async def _build(self, rollup: Rollup, days: list[date], snapshot: Snapshot) -> None:
        db = self._database
        build_id = snapshot.build_id(self._rng)
        await self._clickhouse.execute(
            rollup.build_sql(db, days, build_id), settings=_INSERT_SETTINGS
        )
        # Recorded only once the rows are in: until then the views ignore them.
        recorded = ", ".join(
            f"(toDate('{day.isoformat()}'), toUInt64({snapshot.rows_seen.get(day, 0)}))"
            for day in days
        )
        await self._clickhouse.execute(
            f"INSERT INTO {db}.rollup_ledger (day, rollup_name, build_id, rows_seen, "
            "started_at, erased_at, arrived_rows, events_hash) "
            f"SELECT day, '{rollup.name}', toUInt64({build_id}), seen, "
            f"toDateTime({snapshot.started_at_s}, 'UTC'), toDateTime(0, 'UTC'), "
            "sumState(toUInt64(0)), sumState(toUInt64(0)) "
            f"FROM (SELECT arrayJoin([{recorded}]) AS built, "
            "tupleElement(built, 1) AS day, tupleElement(built, 2) AS seen) "
            "GROUP BY day, seen",
            settings=_INSERT_SETTINGS,
        )
        log.info(
            "built %s for %d day(s) from %s (build %d)", rollup.name, len(days), days[0], build_id
        )

    async def _drop_recent_before(self, first_kept: date) -> None:
        """Drop the days of events_recent before `first_kept`, on every node."""
        parts = f"cluster('{self._cluster}', system, parts)" if self._cluster else "system.parts"
        rows = await self._clickhouse.execute(
            f"SELECT DISTINCT partition_id FROM {parts} WHERE database = '{self._database}' "
            f"AND table = 'events_recent_local' AND active AND partition_id < "
            f"'{first_kept.strftime('%Y%m%d')}' ORDER BY partition_id"
        )
        on_cluster = f"ON CLUSTER {self._cluster}" if self._cluster else ""
        for (partition_id,) in rows:
            day = date(int(partition_id[:4]), int(partition_id[4:6]), int(partition_id[6:]))
            await self._clickhouse.execute(
                f"ALTER TABLE {self._database}.events_recent_local {on_cluster} "
                f"DROP PARTITION '{day.isoformat()}'"
            )

    async def backfill_arrivals(self) -> None:
        """Count the days stored before the ledger counted arrivals (a database older than 0024).

        Scans the whole history once. A day it counts twice only gets rebuilt
        once more, so racing the ETL is harmless.
        """
        db = self._database
        await self._clickhouse.execute(
            f"INSERT INTO {db}.rollup_ledger (day, rollup_name, build_id, rows_seen, "
            "started_at, erased_at, arrived_rows, events_hash) "
            "SELECT toDate(event_time) AS day, '', toUInt64(0), toUInt64(0), "
            "toDateTime(0, 'UTC'), toDateTime(0, 'UTC'), sumState(toUInt64(1)), "
            "sumState(cityHash64(toString(event_id))) "
            f"FROM {db}.events WHERE toDate(event_time) NOT IN ("
            f"SELECT day FROM {db}.rollup_ledger WHERE rollup_name = '' "
            "GROUP BY day HAVING sumMerge(arrived_rows) > 0) "
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
        job = RollupJob(
            clickhouse,
            settings.database,
            cluster=settings.cluster if settings.replicated else None,
        )
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
