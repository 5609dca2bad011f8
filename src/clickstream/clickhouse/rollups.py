"""`clickstream rollup`: rebuilds closed days of the analyst rollups from `events FINAL`.

Exact by construction: a day's rollup rows are computed from `events FINAL`
restricted to that day, so they count what FINAL counts (a retried event, same
event_id, is one row after FINAL, so one in the rollup). Which days need a
build is the `rollup_fresh` view's business (migration 0029): a day is fresh
for a rollup when its latest build started after the last row of that day
arrived (by count, `rollup_arrived`) and after the last erasure touching it
finished. This job rebuilds every closed day (before today, UTC) that is not
fresh, a calendar month of days per statement; the analyst views compute the
others live meanwhile.

Safe to run twice at once: each build writes under its own build_id and is
recorded only after its rows are in; the views read the latest recorded build
of a day, the others are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import signal
import textwrap
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from importlib import resources
from string import Template
from typing import Any, Protocol, TypeVar

from clickstream.clickhouse.client import ClickHouse, ClickHouseError, error_code
from clickstream.config import ClickHouseSettings

log = logging.getLogger(__name__)

# Rollup tables are small and every node holds them whole; the events read
# goes through the Distributed table, whose insert settings do not matter here.
_INSERT_SETTINGS = {"insert_distributed_sync": 1}
# build_id = server seconds * this + random: ordered by start, unique in practice.
_BUILD_ID_SPREAD = 1_000_000
# "Memory limit (for query) exceeded": a month of a busy site through FINAL can
# pass a server's per-query limit (18.16 at 33M events a month); halves are tried.
MEMORY_LIMIT_EXCEEDED = 241
_Part = TypeVar("_Part", date, int)  # what a build covers: days, or hours (epoch seconds)
HOUR_S = 3600
# An hourly pass vouches for the rows stored this long before it started, not up to
# its start: a block stored just before may not have reached the replica a build
# reads yet. The changes of the margin are simply looked at again by the next pass.
VERIFY_MARGIN_S = 60
# events_recent holds every row from this time on (the job drops its older days): an
# hourly view's live part starts here at the earliest (Rollup.live_hour_sql).
RECENT_FROM = "toDateTime(today() - 1, 'UTC')"
RECENT_DAYS_KEPT = 3  # today, yesterday, and the day before (a margin)


@dataclass(frozen=True)
class Rollup:
    """One analyst question: view `name`, table `rollup_<name>` (build_id, then `columns`).

    `select` is the question over `${database}.events FINAL` (a file of
    `rollup_sql/`); `${where}` marks where a day restriction is appended to its
    event filter. The migrations render the `<name>_raw` view (`raw_sql`: it
    as is) and the `<name>` view (`served_sql`: builds, and it live from the
    first day without a fresh one) from this text.
    """

    name: str
    columns: tuple[str, ...]
    select: str
    # "day": built per closed day, freshness per day (rollup_live_from); "hour": built
    # per closed hour, served up to the first hour changed since the job's last pass.
    grain: str = "day"

    @property
    def table(self) -> str:
        """The builds: `rollup_<name>`, or per hour `rollup_<name>_by_hour` (a row an hour,
        the other columns as arrays; its name is also the pass_of of the job's passes)."""
        return f"rollup_{self.name}_by_hour" if self.grain == "hour" else f"rollup_{self.name}"

    def query(self, database: str, where: str = "") -> str:
        return Template(self.select).substitute(database=database, where=where)

    def raw_sql(self, database: str) -> str:
        """The `<name>_raw` view's body: the question over the whole history."""
        return self.query(database)

    def served_sql(self, database: str, *, single: bool = True) -> str:
        """The `<name>` view's body: the latest builds before the first live day, then live.

        An hourly question: `_served_by_hour_sql` (`single`: one node, see there).

        `rollup_live_from` (migration 0079) names, per rollup, the first day
        that is not served from a build: the oldest day whose latest build is
        not fresh (rows arrived since it started, an erasure finished after, or
        no build), else today. Days before it come from the rollup table, that
        day and every later one from `events FINAL`, from its partition on
        (18.16 folds the scalar subquery before index analysis). One scalar
        (modern ClickHouse reads it once a query, 18.16 once where it appears)
        instead of the first design's three reads of the freshness view
        (`served_sql_v1`); a late event for an old day makes the days after it
        live too, until the job's next pass rebuilds it. A query that reads
        the scalar twice while a build is recorded or a late event lands may
        see a range of days twice or not at all (docs/analytics.md).
        """
        if self.grain == "hour":
            return self._served_by_hour_sql(database, single=single)
        columns = ", ".join(self.columns)
        live_from = (
            f"(SELECT live_from FROM {database}.rollup_live_from WHERE rollup_name = '{self.name}')"
        )
        live = self._live_prewhere(database, f"event_time >= toDateTime({live_from}, 'UTC')")
        return (
            f"SELECT {columns}\n"
            f"FROM {database}.{self.table}\n"
            f"WHERE day < {live_from}\n"
            f"    AND (day, build_id) IN (SELECT day, max(build_id) FROM {database}.rollup_builds "
            f"WHERE rollup_name = '{self.name}' GROUP BY day)\n"
            "UNION ALL\n"
            f"SELECT {columns}\n"
            "FROM\n(\n" + textwrap.indent(live, "    ") + "\n)"
        )

    def live_hour_sql(self, database: str) -> str:
        """The first hour an hourly view computes live: one read of `rollup_changes`.

        The job's latest pass (a row with pass_of = the rollup's table) vouches
        for every hour before its first_hour as stored before its changed_at;
        any block stored since, and any erasure finished since, is a row naming
        the first hour it changed. So the view serves builds before the
        earliest of those, exactly, without per-hour bookkeeping at query time.
        One flat read, no subquery inside (18.16 evaluates a scalar subquery
        several times per place it appears, modern ClickHouse pays per
        subquery): the changes after the latest pass kept by an array filter,
        a far-off sentinel for none. The job keeps the table small (it writes
        a pass row only when something changed, and drops the days before the
        passes it still needs).

        Never before RECENT_FROM: the live part reads `events_recent` only, so
        a change to an hour before it (a late event stamped before yesterday,
        an erasure of an older day) counts from the job's next pass, which
        rebuilds that hour; until then the view serves the hour's build, which
        never counts a retried event twice. No pass yet: RECENT_FROM.
        """
        pass_of = f"pass_of = '{self.table}'"
        return (
            "(SELECT greatest(least("
            f"argMaxIf(first_hour, changed_at, {pass_of}), "
            "arrayReduce('min', arrayPushBack(arrayFilter((hour, at, since) -> at >= since, "
            "groupArrayIf(first_hour, pass_of = ''), groupArrayIf(changed_at, pass_of = ''), "
            f"replicate(maxIf(changed_at, {pass_of}), groupArrayIf(first_hour, pass_of = ''))), "
            f"toDateTime('2105-12-31 00:00:00', 'UTC')))), {RECENT_FROM}) "
            f"FROM {database}.rollup_changes)"
        )

    def _served_by_hour_sql(self, database: str, *, single: bool) -> str:
        """The latest build of each hour before the live hour, the question from it on.

        Builds: one row an hour in `rollup_<name>_by_hour`, the latest by the
        replacing engine (FINAL), its arrays back into rows (ARRAY JOIN).
        Live: the question over `events_recent` (migration 0106), which holds
        the days from RECENT_FROM on, one partition a day: the usual live part,
        the hour or two since the last pass, reads today's partition only. On
        one node (`single`) its local table: the Distributed hop is a second
        plan for nothing there (4 ms of 16 on chDB). Two branches, each a
        SELECT of the view itself (the question is not wrapped in a subquery):
        18.16 evaluates the live hour's scalar again at every level of
        nesting, and modern ClickHouse pays for every branch and read
        (docs/benchmarks.md). So the question's columns are the rollup's, in
        order.
        """
        columns = ", ".join(self.columns)
        live_from = self.live_hour_sql(database)
        recent = "events_recent_local" if single else "events_recent"
        live = self._live_prewhere(database, f"event_time >= {live_from}", recent)
        return (
            f"SELECT {columns}\n"
            f"FROM {database}.{self.table} FINAL\n"
            f"ARRAY JOIN {', '.join(self.columns[1:])}\n"
            f"WHERE hour < {live_from}\n"
            "UNION ALL\n" + live
        )

    def served_sql_v1(self, database: str) -> str:
        """The first design's view body (migrations 0033-0074): fresh days' latest build,
        the others live.

        Live from the first day without a fresh build on, so that partitions
        before it are pruned (18.16 folds the scalar subquery before index
        analysis), and only for days without one.
        """
        columns = ", ".join(self.columns)
        fresh = f"SELECT day FROM {database}.rollup_fresh WHERE rollup_name = '{self.name}'"
        live_filter = (
            "\n    AND event_time >= (\n"
            "        SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')\n"
            f"        FROM {database}.rollup_arrived\n"
            f"        WHERE day NOT IN ({fresh})\n"
            "    )\n"
            f"    AND toDate(event_time) NOT IN ({fresh})"
        )
        live = self._live(database, live_filter)
        return (
            f"SELECT {columns}\n"
            f"FROM {database}.{self.table}\n"
            f"WHERE (day, build_id) IN (SELECT day, build_id FROM {database}.rollup_fresh "
            f"WHERE rollup_name = '{self.name}')\n"
            "UNION ALL\n"
            f"SELECT {columns}\n"
            "FROM\n(\n" + textwrap.indent(live, "    ") + "\n)"
        )

    def _live_prewhere(self, database: str, condition: str, table: str = "events") -> str:
        """The question with `condition` as the PREWHERE of each read of `events FINAL`.

        PREWHERE filters before FINAL merges: on a sorting-key column that is
        exact (every copy of an event has the same event_time, so all copies
        go or stay together), and 18.16 then merges today's rows only, not its
        whole month's (0.07 s against 0.16 s for today's page views at 100M
        events). Both engines prune partitions by it as by a WHERE.
        """
        found = _FINAL_READ.subn(
            lambda m: f"FROM ${{database}}.{table} FINAL\n{m[2]}PREWHERE {condition}\n{m[2]}WHERE ",
            self.select.replace("${where}", ""),
        )
        if found[1] != self.select.count("${where}"):
            raise ValueError(f"{self.name}: each ${{where}} must follow 'events FINAL' + WHERE")
        return Template(found[0]).substitute(database=database)

    def _live(self, database: str, live_filter: str) -> str:
        """The question with `live_filter` at each `${where}`, at that line's indentation."""
        parts = self.select.split("${where}")
        live = parts[0]
        for part in parts[1:]:
            indent = live[live.rfind("\n") + 1 :]
            indent = indent[: len(indent) - len(indent.lstrip())]
            live += live_filter.replace("\n", "\n" + indent) + part
        return Template(live).substitute(database=database)

    def build_sql(self, database: str, days: Sequence[date], build_id: int) -> str:
        """Rebuild `days` (of one calendar month, so one partition of `events`) in one read.

        The range bounds the read to the month's partition; a gap in `days`
        (a day fresh already) is left out by the day list.
        """
        first, last = min(days), max(days)
        start, end = first.isoformat(), (last + timedelta(days=1)).isoformat()
        where = (
            f"\n    AND event_time >= toDateTime('{start} 00:00:00', 'UTC')"
            f" AND event_time < toDateTime('{end} 00:00:00', 'UTC')"
        )
        if len(set(days)) != (last - first).days + 1:
            listed = ", ".join(f"toDate('{day.isoformat()}')" for day in sorted(set(days)))
            where += f"\n    AND toDate(event_time) IN ({listed})"
        columns = ", ".join(self.columns)
        return (
            f"INSERT INTO {database}.{self.table} (build_id, {columns})\n"
            f"SELECT toUInt64({build_id}) AS build_id, {columns}\n"
            f"FROM\n(\n{self.query(database, where)}\n)"
        )

    def build_hours_sql(self, database: str, hours: Sequence[int], build_id: int) -> str:
        """Rebuild `hours` (epoch seconds, of one calendar month) in one read.

        The range is a PREWHERE, as in the live part: FINAL then merges those
        hours' rows only, not their month's (an hourly build runs every hour).
        Every hour gets a row, its question's rows gathered into arrays (an
        hour without events: empty arrays, which replace an older build's).
        """
        first, last = min(hours), max(hours)
        condition = (
            f"event_time >= toDateTime({first}, 'UTC')"
            f" AND event_time < toDateTime({last + HOUR_S}, 'UTC')"
        )
        listed = ", ".join(f"toDateTime({hour}, 'UTC')" for hour in sorted(set(hours)))
        if len(set(hours)) != (last - first) // HOUR_S + 1:
            condition += f" AND toStartOfHour(event_time) IN ({listed})"
        question = self._live_prewhere(database, condition)
        values = self.columns[1:]
        gathered = ", ".join(f"groupArray({column}) AS built_{column}" for column in values)
        return (
            f"INSERT INTO {database}.{self.table} (hour, build_id, {', '.join(values)})\n"
            f"SELECT hour, toUInt64({build_id}), "
            + ", ".join(f"built_{column}" for column in values)
            + f"\nFROM (SELECT arrayJoin([{listed}]) AS hour) AS hours\n"
            f"ANY LEFT JOIN\n(\nSELECT hour, {gathered}\nFROM\n(\n{question}\n)\n"
            "GROUP BY hour\n) AS built USING hour"
        )


_HEADER = re.compile(r"-- rollup_(\w+)( by hour)?: ([\w, ]+)\n")
# A read of the events in a question: FROM ... FINAL, then its WHERE line.
_FINAL_READ = re.compile(r"(FROM \$\{database\}\.events FINAL\n)( *)WHERE ")


def load() -> tuple[Rollup, ...]:
    """The questions in `rollup_sql/`, in file order.

    Each file is one question: a header `-- rollup_<name>: <columns>` (or
    `-- rollup_<name> by hour: hour, ...`), then its SELECT over
    `${database}.events FINAL` with `${where}` in its filter.
    """
    folder = resources.files(__package__).joinpath("rollup_sql")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        text = entry.read_text()
        header = _HEADER.match(text)
        if header is None:
            raise ValueError(f"{entry.name}: no '-- rollup_<name>: <columns>' header")
        columns = tuple(column.strip() for column in header.group(3).split(","))
        grain = "hour" if header.group(2) else "day"
        found.append(Rollup(header.group(1), columns, text[header.end() :].rstrip("\n"), grain))
    return tuple(found)


QUESTIONS = load()
# Built per closed day (rollup_builds, rollup_live_from)...
ROLLUPS = tuple(question for question in QUESTIONS if question.grain == "day")
# ...and per closed hour (rollup_hour_builds, rollup_changes).
HOURLY = tuple(question for question in QUESTIONS if question.grain == "hour")


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
    times compared in rollup_fresh must come from one clock. Per day: the rows
    stored so far and the newest `received_at` among them.
    """

    started_at_s: int
    rows_seen: Mapping[date, int]
    watermark_s: Mapping[date, int]

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


async def _in_halves(
    items: list[_Part], build: Callable[[list[_Part]], Awaitable[None]], name: str
) -> None:
    """`build(items)` in one statement, or in halves where the server runs out of memory.

    A failed statement may have written some rows under its build_id. No daily
    view reads them (only a recorded build is served); an hourly row is a whole
    hour of its build, exact on its own.
    """
    try:
        await build(items)
    except ClickHouseError as error:
        refusal = error_code(error)
        if len(items) == 1 or refusal is None or refusal[0] != MEMORY_LIMIT_EXCEEDED:
            raise
        log.warning(
            "%s for %d days or hours from %s ran out of memory; building them in halves",
            name,
            len(items),
            items[0],
        )
        half = len(items) // 2
        await _in_halves(items[:half], build, name)
        await _in_halves(items[half:], build, name)


def _by_month(hours: list[int]) -> list[list[int]]:
    """Sorted hours (epoch seconds) by calendar month: one partition of `events` each."""
    months: dict[tuple[int, int], list[int]] = {}
    for hour in hours:
        when = datetime.fromtimestamp(hour, UTC)
        months.setdefault((when.year, when.month), []).append(hour)
    return [months[month] for month in sorted(months)]


def batches(todo: Mapping[date, list[Rollup]]) -> list[dict[Rollup, list[date]]]:
    """The stale days by calendar month, oldest first, and per month the days of each rollup.

    A month is one partition of `events`: one statement per rollup and month
    reads it once through FINAL, where a statement per day would read the
    day's whole month (the sort key does not start with the time) every time.
    """
    months: dict[tuple[int, int], dict[Rollup, list[date]]] = {}
    for day in sorted(todo):
        for rollup in todo[day]:
            months.setdefault((day.year, day.month), {}).setdefault(rollup, []).append(day)
    return [months[month] for month in sorted(months)]


class RollupJob:
    def __init__(
        self,
        clickhouse: Sql,
        database: str,
        *,
        rollups: tuple[Rollup, ...] = ROLLUPS,
        hourly: tuple[Rollup, ...] = HOURLY,
        rng: random.Random | None = None,
        verify_margin_s: int = VERIFY_MARGIN_S,
        cluster: str | None = None,
    ) -> None:
        """`cluster`: the cluster whose every node holds part of events_recent (None: one node)."""
        self._clickhouse = clickhouse
        self._database = database
        self._rollups = rollups
        self._hourly = hourly
        self._rng = rng or random.Random()
        self._verify_margin_s = verify_margin_s
        self._on_cluster = f"ON CLUSTER {cluster}" if cluster else ""

    async def run_once(self) -> list[tuple[str, date]]:
        """Rebuild every stale closed day, then every changed closed hour.

        Returns the (rollup, day) pairs built, then the (rollup, hour) pairs
        (a datetime, UTC) of the hourly rollups.
        """
        built = await self._run_days()
        for rollup in self._hourly:
            built.extend(await self._run_hours(rollup))
        if self._hourly:
            await self._drop_old_changes()
            await self._drop_old_recent_days()
        return built

    async def _run_days(self) -> list[tuple[str, date]]:
        if not self._rollups:
            return []
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
        for work in batches(todo):
            snapshot = await self._snapshot({day for days in work.values() for day in days})
            for rollup, days in work.items():
                await _in_halves(days, partial(self._build, rollup, snapshot=snapshot), rollup.name)
                built.extend((rollup.name, day) for day in days)
        return built

    async def _snapshot(self, days: set[date]) -> Snapshot:
        listed = ", ".join(f"toDate('{day.isoformat()}')" for day in sorted(days))
        rows = await self._clickhouse.execute(
            "SELECT toUInt32(now()), toString(day), arrived_rows, toUInt32(last_received_at) "
            f"FROM {self._database}.rollup_arrived WHERE day IN ({listed})"
        )
        if not rows:  # cannot happen for a stale day (it had arrivals), but stay exact
            ((now,),) = await self._clickhouse.execute("SELECT toUInt32(now())")
            return Snapshot(int(now), {}, {})
        return Snapshot(
            int(rows[0][0]),
            {date.fromisoformat(day): int(count) for _, day, count, _ in rows},
            {date.fromisoformat(day): int(mark) for _, day, _, mark in rows},
        )

    async def _build(self, rollup: Rollup, days: list[date], snapshot: Snapshot) -> None:
        db = self._database
        build_id = snapshot.build_id(self._rng)
        await self._clickhouse.execute(
            rollup.build_sql(db, days, build_id), settings=_INSERT_SETTINGS
        )
        # Recorded only once the rows are in: until then the views ignore them.
        # A day without arrivals counts 0 rows seen: any arrival makes it stale.
        recorded = ", ".join(
            f"(toDate('{day.isoformat()}'), toUInt64({snapshot.rows_seen.get(day, 0)}), "
            f"toDateTime({snapshot.watermark_s.get(day, 0)}, 'UTC'))"
            for day in days
        )
        await self._clickhouse.execute(
            f"INSERT INTO {db}.rollup_builds "
            "(rollup_name, day, build_id, rows_seen, watermark, started_at, built_at) "
            f"SELECT '{rollup.name}', tupleElement(built, 1), toUInt64({build_id}), "
            "tupleElement(built, 2), tupleElement(built, 3), "
            f"toDateTime({snapshot.started_at_s}, 'UTC'), now() "
            f"FROM (SELECT arrayJoin([{recorded}]) AS built)",
            settings=_INSERT_SETTINGS,
        )
        log.info(
            "built %s for %d day(s) from %s (build %d)", rollup.name, len(days), days[0], build_id
        )

    async def _run_hours(self, rollup: Rollup) -> list[tuple[str, date]]:
        """Build the closed hours changed since the last pass (or never built), then vouch.

        The pass starts at server time `now`: every block stored before it is in
        `events` for the builds, which start after. The pass row it writes to
        rollup_changes says `now` less the margin (VERIFY_MARGIN_S), so the next
        pass (and the view meanwhile) looks at the margin's changes again. A
        pass that found nothing to build in the same open hour writes no row:
        the previous one says the same, and the view reads every row there is.
        """
        db = self._database
        ((now,),) = await self._clickhouse.execute("SELECT toUInt32(now())")
        now = int(now)
        open_hour = now - now % HOUR_S
        hours, served_until = await self._changed_hours(rollup, open_hour)
        built: list[tuple[str, date]] = []
        for month in _by_month(hours):
            await _in_halves(month, lambda part: self._build_hours(rollup, part, now), rollup.name)
            built.extend((rollup.name, datetime.fromtimestamp(hour, UTC)) for hour in month)
        if not hours and served_until == open_hour:
            return built
        # The pass: every hour before the open one is built, as of `now` less the margin.
        await self._clickhouse.execute(
            f"INSERT INTO {db}.rollup_changes (changed_at, first_hour, last_hour, pass_of) "
            f"SELECT toDateTime({now - self._verify_margin_s}, 'UTC'), "
            f"toDateTime({open_hour}, 'UTC'), toDateTime({open_hour}, 'UTC'), '{rollup.table}'",
            settings=_INSERT_SETTINGS,
        )
        if built:
            log.info("built %s for %d hour(s)", rollup.name, len(built))
        return built

    async def _changed_hours(self, rollup: Rollup, open_hour: int) -> tuple[list[int], int | None]:
        """Closed hours to build (changed since the last pass, or newly closed), and the
        latest pass's first hour (None: no pass yet).

        Before the first pass every hour of every day with arrivals.
        """
        db = self._database
        ((passes, since, until),) = await self._clickhouse.execute(
            "SELECT count(), toUInt32(max(changed_at)), toUInt32(argMax(first_hour, changed_at)) "
            f"FROM {db}.rollup_changes WHERE pass_of = '{rollup.table}'"
        )
        hours: set[int] = set()
        if int(passes) == 0:
            for (day,) in await self._clickhouse.execute(
                f"SELECT toUInt32(toDateTime(day, 'UTC')) FROM {db}.rollup_arrived"
            ):
                hours.update(range(int(day), int(day) + 24 * HOUR_S, HOUR_S))
        else:
            changes = await self._clickhouse.execute(
                "SELECT toUInt32(first_hour), toUInt32(last_hour) FROM "
                f"{db}.rollup_changes WHERE changed_at >= toDateTime({int(since)}, 'UTC') "
                "AND pass_of = ''"
            )
            for first, last in changes:
                hours.update(range(int(first), int(last) + HOUR_S, HOUR_S))
            hours.update(range(int(until), open_hour, HOUR_S))
        closed = sorted(hour for hour in hours if hour < open_hour)
        return closed, (int(until) if int(passes) else None)

    async def _build_hours(self, rollup: Rollup, hours: list[int], started_at: int) -> None:
        """Write `hours`' rows under a new build_id, then record the build."""
        db = self._database
        build_id = started_at * _BUILD_ID_SPREAD + self._rng.randrange(_BUILD_ID_SPREAD)
        await self._clickhouse.execute(
            rollup.build_hours_sql(db, hours, build_id), settings=_INSERT_SETTINGS
        )
        listed = ", ".join(str(hour) for hour in hours)
        await self._clickhouse.execute(
            f"INSERT INTO {db}.rollup_hour_builds "
            "(rollup_name, hour, build_id, started_at, built_at) "
            f"SELECT '{rollup.name}', toDateTime(arrayJoin([{listed}]), 'UTC'), "
            f"toUInt64({build_id}), toDateTime({started_at}, 'UTC'), now()",
            settings=_INSERT_SETTINGS,
        )

    async def _drop_old_changes(self) -> None:
        """Drop the days of rollup_changes that no pass reads any more.

        Every hourly rollup's latest pass reads changes from its changed_at on (as
        does its view);
        the days before the earliest of those, less one, go (18.16 has no TTL).
        """
        db = self._database
        # Only the current rollups' passes: an old name (a rollup's earlier table)
        # passes no more, and its last row would hold every later day forever.
        current = ", ".join(f"'{rollup.table}'" for rollup in self._hourly)
        ((passes, since),) = await self._clickhouse.execute(
            "SELECT count(), toUInt32(min(since)) FROM (SELECT max(changed_at) AS since "
            f"FROM {db}.rollup_changes WHERE pass_of IN ({current}) GROUP BY pass_of)"
        )
        if int(passes) == 0:
            return
        kept = datetime.fromtimestamp(int(since), UTC).date() - timedelta(days=1)
        oldest = int(kept.strftime("%Y%m%d"))
        await self._drop_partitions("rollup_changes", str(oldest))

    async def _drop_old_recent_days(self) -> None:
        """Drop the days of events_recent before the last RECENT_DAYS_KEPT, on every node.

        The views read it from yesterday on (RECENT_FROM); late events for old
        days land in it too, and go at the next pass.
        """
        await self._drop_partitions(
            "events_recent_local", f"toYYYYMMDD(today() - {RECENT_DAYS_KEPT - 1})", self._on_cluster
        )

    async def _drop_partitions(self, table: str, before: str, on_cluster: str = "") -> None:
        """Drop `table`'s day partitions (YYYYMMDD) before the day `before` names."""
        db = self._database
        partitions = await self._clickhouse.execute(
            "SELECT DISTINCT partition FROM system.parts "
            f"WHERE database = '{db}' AND table = '{table}' AND active "
            f"AND toUInt32(partition) < {before}"
        )
        for (partition,) in partitions:
            await self._clickhouse.execute(
                f"ALTER TABLE {db}.{table} {on_cluster} DROP PARTITION {int(partition)}"
            )

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
        cluster = settings.cluster if settings.replicated else None
        job = RollupJob(clickhouse, settings.database, cluster=cluster)
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
