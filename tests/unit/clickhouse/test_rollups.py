"""The rollup job's logic and its SQL: which days are stale, what a build writes and in
which order, and that the views compute exactly what the builds compute."""

from __future__ import annotations

import random
import re
from datetime import date
from typing import Any

import pytest
from asynch.errors import ServerException

from clickstream.clickhouse.migrations import Migration, load
from clickstream.clickhouse.rollups import (
    HOURLY,
    QUESTIONS,
    ROLLUPS,
    VERIFY_MARGIN_S,
    Rollup,
    RollupJob,
    batches,
    stale,
)
from clickstream.config import ClickHouseSettings

MIGRATIONS = {migration.name: migration for migration in load()}
D1, D2, TODAY = date(2024, 10, 1), date(2024, 10, 2), date(2024, 10, 3)
CLICKS, VIEWS = ROLLUPS[0], ROLLUPS[1]


def statement(migration: Migration) -> str:
    """The migration as one node runs it, `${database}` left as written."""
    rendered = migration.render(ClickHouseSettings(), "${database}")
    lines = [line for line in rendered.splitlines() if not line.startswith("--")]
    return "\n".join(lines).strip()


def body(migration: Migration) -> str:
    """The SELECT of a `CREATE VIEW ... AS` statement."""
    return statement(migration).split(" AS\n", 1)[1]


# -- which days the job rebuilds --------------------------------------------------------


def test_a_closed_day_without_a_fresh_build_is_stale_for_every_rollup() -> None:
    assert stale([D1], [], TODAY) == {D1: list(ROLLUPS)}


def test_today_is_never_built_even_with_arrivals() -> None:
    assert stale([TODAY, date(2024, 10, 4)], [], TODAY) == {}


def test_only_the_rollups_without_a_fresh_build_are_rebuilt() -> None:
    fresh = [(rollup.name, D1) for rollup in ROLLUPS if rollup is not VIEWS]
    fresh += [(rollup.name, D2) for rollup in ROLLUPS]

    assert stale([D2, D1, D1], fresh, TODAY) == {D1: [VIEWS]}


# -- the views compute what the builds compute ------------------------------------------


@pytest.mark.parametrize("rollup", QUESTIONS, ids=lambda r: r.name)
def test_the_raw_view_is_the_builds_query_over_all_history(rollup: Rollup) -> None:
    assert body(MIGRATIONS[f"{rollup.name}_raw"]) == rollup.query("${database}")


_LIVE_FROM = "(SELECT live_from FROM ${{database}}.rollup_live_from WHERE rollup_name = '{name}')"
_LIVE_CONDITIONS = re.compile(
    r"(?m)^ *PREWHERE event_time >= toDateTime\(\(SELECT live_from FROM \$\{database\}\.rollup_live_from "
    r"WHERE rollup_name = '(\w+)'\), 'UTC'\)\n"
)


@pytest.mark.parametrize("rollup", ROLLUPS, ids=lambda r: r.name)
def test_the_view_serves_builds_before_its_live_day_and_computes_the_rest_like_a_build(
    rollup: Rollup,
) -> None:
    sql = body(MIGRATIONS[rollup.name])
    served, live = sql.split("\nUNION ALL\n")
    columns = ", ".join(rollup.columns)

    assert served == (
        f"SELECT {columns}\nFROM ${{database}}.{rollup.table}\n"
        f"WHERE day < {_LIVE_FROM.format(name=rollup.name)}\n"
        "    AND (day, build_id) IN (SELECT day, max(build_id) FROM ${database}.rollup_builds "
        f"WHERE rollup_name = '{rollup.name}' GROUP BY day)"
    )
    head, subquery = live.split("\nFROM\n(\n", 1)
    assert head == f"SELECT {columns}"
    inner = "\n".join(
        line.removeprefix("    ") for line in subquery.removesuffix("\n)").splitlines()
    )
    conditions = _LIVE_CONDITIONS.findall(inner)
    reads = rollup.select.count("${where}")
    assert conditions == [rollup.name] * reads, "the live day of this very rollup"
    assert _LIVE_CONDITIONS.sub("", inner) == rollup.query("${database}")


def test_the_first_designs_migrations_still_render_the_first_design() -> None:
    """Applied migrations never run again, but a new database runs them all in order."""
    for migration in load():
        if migration.version < 80 and "served" in migration.template:
            rollup = next(r for r in ROLLUPS if f"${{served_v1_{r.name}}}" in migration.template)
            assert body(migration) == rollup.served_sql_v1("${database}")
            assert "rollup_live_from" not in body(migration), "0079 creates it"


def test_every_question_is_in_the_live_day_view() -> None:
    """A question missing from the latest `rollup_live_from` would have no live day:
    its view would serve builds however stale (0079 names the questions as they stood)."""
    sql = statement(MIGRATIONS["rollup_live_from"])
    listed = [
        re.findall(r"'(\w+)'", names)
        for names in re.findall(r"ARRAY JOIN\s*\[([^\]]*)\]\s*AS rollup_name", sql)
    ]
    assert listed == [[rollup.name for rollup in ROLLUPS]] * 2


def test_every_rollup_has_a_table_a_raw_view_and_a_view() -> None:
    for rollup in QUESTIONS:
        assert {rollup.table, f"{rollup.name}_raw", rollup.name} <= MIGRATIONS.keys()
        table = statement(MIGRATIONS[rollup.table])
        for column in ("build_id", *rollup.columns):
            assert re.search(rf"^    {column} \w+", table, re.M), (rollup.name, column)


def test_a_build_reads_exactly_its_day_and_writes_under_its_build_id() -> None:
    sql = CLICKS.build_sql("analytics", [D1], 42)

    assert sql.startswith(
        "INSERT INTO analytics.rollup_clicks_by_element (build_id, day, element, page_url, "
    )
    assert "SELECT toUInt64(42) AS build_id, day, element" in sql
    assert (
        "WHERE event_type = 'click'\n"
        "    AND event_time >= toDateTime('2024-10-01 00:00:00', 'UTC')"
        " AND event_time < toDateTime('2024-10-02 00:00:00', 'UTC')"
    ) in sql
    assert "FROM analytics.events FINAL" in sql
    assert "IN (" not in sql, "one day needs no day list"


def test_month_ends_roll_over_in_a_build() -> None:
    assert "< toDateTime('2024-11-01 00:00:00', 'UTC')" in VIEWS.build_sql(
        "a", [date(2024, 10, 31)], 1
    )


def test_a_build_of_several_days_reads_them_once_and_leaves_out_the_gaps() -> None:
    sql = CLICKS.build_sql("a", [date(2024, 10, 1), date(2024, 10, 2), date(2024, 10, 5)], 1)

    assert (
        "AND event_time >= toDateTime('2024-10-01 00:00:00', 'UTC')"
        " AND event_time < toDateTime('2024-10-06 00:00:00', 'UTC')\n"
        "    AND toDate(event_time) IN "
        "(toDate('2024-10-01'), toDate('2024-10-02'), toDate('2024-10-05'))"
    ) in sql
    contiguous = CLICKS.build_sql("a", [date(2024, 10, 1), date(2024, 10, 2)], 1)
    assert "< toDateTime('2024-10-03 00:00:00', 'UTC')" in contiguous
    assert "toDate(event_time) IN" not in contiguous


def test_stale_days_are_batched_by_calendar_month_oldest_first() -> None:
    sept, oct1, oct2 = date(2024, 9, 30), D1, D2
    todo = {oct2: [CLICKS], sept: [CLICKS, VIEWS], oct1: [CLICKS, VIEWS]}

    assert batches(todo) == [
        {CLICKS: [sept], VIEWS: [sept]},
        {CLICKS: [oct1, oct2], VIEWS: [oct1]},
    ]


# -- the job against a fake connection ----------------------------------------------------


class FakeSql:
    """Answers the job's reads from plain values; records every statement in order."""

    def __init__(self, arrived: dict[date, int], fresh: list[tuple[str, date]]) -> None:
        self.arrived = arrived
        self.fresh = fresh
        self.statements: list[str] = []

    async def execute(
        self, query: str, *, settings: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        self.statements.append(query)
        if query == "SELECT toString(today())":
            return [(TODAY.isoformat(),)]
        if query.startswith("SELECT toString(day) FROM db.rollup_arrived"):
            return [(day.isoformat(),) for day in self.arrived]
        if query.startswith("SELECT rollup_name, toString(day) FROM db.rollup_fresh"):
            return [(name, day.isoformat()) for name, day in self.fresh]
        if query.startswith("SELECT toUInt32(now()), toString(day), arrived_rows"):
            days = [date.fromisoformat(d) for d in re.findall(r"toDate\('([\d-]+)'\)", query)]
            return [
                (1_700_000_000, day.isoformat(), self.arrived[day], 1_699_999_999)
                for day in days
                if day in self.arrived
            ]
        assert query.startswith("INSERT INTO db."), query
        return []


async def test_the_job_snapshots_a_day_then_writes_rows_then_records_the_build() -> None:
    fake = FakeSql({D1: 7, TODAY: 3}, [(rollup.name, D1) for rollup in ROLLUPS[1:]])

    built = await RollupJob(fake, "db", hourly=(), rng=random.Random(1)).run_once()

    assert built == [("clicks_by_element", D1)]
    writes = fake.statements[3:]
    assert writes[0].startswith("SELECT toUInt32(now()), toString(day), arrived_rows")
    assert writes[1].startswith("INSERT INTO db.rollup_clicks_by_element")
    assert writes[2].startswith("INSERT INTO db.rollup_builds")
    assert len(writes) == 3
    build_id = int(re.findall(r"toUInt64\((\d+)\) AS build_id", writes[1])[0])
    assert build_id // 1_000_000 == 1_700_000_000, "builds are ordered by their start"
    recorded = writes[2].split("SELECT ", 1)[1]
    assert recorded.startswith(f"'clicks_by_element', tupleElement(built, 1), toUInt64({build_id})")
    assert "(toDate('2024-10-01'), toUInt64(7), toDateTime(1699999999, 'UTC'))" in recorded, (
        "the arrival count read before the build"
    )
    assert "toDateTime(1700000000, 'UTC')" in recorded


async def test_a_month_of_stale_days_is_one_snapshot_and_one_build_per_rollup() -> None:
    days = [date(2024, 9, 29), date(2024, 9, 30), D1, D2]
    fresh = [(rollup.name, day) for rollup in ROLLUPS[1:] for day in days]
    fake = FakeSql({day: 10 + day.day for day in days} | {TODAY: 3}, fresh)

    built = await RollupJob(fake, "db", hourly=(), rng=random.Random(1)).run_once()

    assert built == [("clicks_by_element", day) for day in days]
    writes = fake.statements[3:]
    assert [w.split(" ", 3)[:3] for w in writes] == [
        ["SELECT", "toUInt32(now()),", "toString(day),"],
        ["INSERT", "INTO", "db.rollup_clicks_by_element"],
        ["INSERT", "INTO", "db.rollup_builds"],
    ] * 2, "September, then October: a snapshot, the rows, the record"
    assert "toDate('2024-09-29'), toDate('2024-09-30')" in writes[0]
    assert "toDate('2024-10-01'), toDate('2024-10-02')" in writes[3]
    assert "< toDateTime('2024-10-03 00:00:00', 'UTC')" in writes[4]
    assert "toUInt64(11)" in writes[5] and "toUInt64(12)" in writes[5], "each day its own count"


class MemoryLimitedSql(FakeSql):
    """Refuses a build of more than `most` days the way ClickHouse does (code 241)."""

    def __init__(self, arrived: dict[date, int], fresh: list[tuple[str, date]], most: int) -> None:
        super().__init__(arrived, fresh)
        self.most = most

    async def execute(
        self, query: str, *, settings: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        if query.startswith("INSERT INTO db.rollup_clicks_by_element"):
            start, end = re.findall(r"toDateTime\('([\d-]+) 00:00:00', 'UTC'\)", query)
            if (date.fromisoformat(end) - date.fromisoformat(start)).days > self.most:
                self.statements.append(query)
                raise ServerException("Memory limit (for query) exceeded", 241)  # type: ignore[no-untyped-call]
        return await super().execute(query, settings=settings)


async def test_a_build_that_runs_out_of_memory_is_made_in_halves() -> None:
    days = [date(2024, 9, day) for day in range(1, 6)]
    fresh = [(rollup.name, day) for rollup in ROLLUPS[1:] for day in days]
    fake = MemoryLimitedSql({day: 7 for day in days} | {TODAY: 3}, fresh, most=2)

    built = await RollupJob(fake, "db", hourly=(), rng=random.Random(1)).run_once()

    assert built == [("clicks_by_element", day) for day in days]
    records = [q for q in fake.statements if q.startswith("INSERT INTO db.rollup_builds")]
    recorded = [re.findall(r"toDate\('([\d-]+)'\)", q) for q in records]
    assert recorded == [["2024-09-01", "2024-09-02"], ["2024-09-03"], ["2024-09-04", "2024-09-05"]]


async def test_a_single_day_out_of_memory_is_an_error() -> None:
    fake = MemoryLimitedSql({D1: 7, TODAY: 3}, [(r.name, D1) for r in ROLLUPS[1:]], most=0)

    with pytest.raises(ServerException):
        await RollupJob(fake, "db", hourly=()).run_once()


async def test_nothing_is_built_when_every_closed_day_is_fresh() -> None:
    fake = FakeSql({D1: 7, TODAY: 3}, [(rollup.name, D1) for rollup in ROLLUPS])

    assert await RollupJob(fake, "db", hourly=()).run_once() == []
    assert not [query for query in fake.statements if query.startswith("INSERT")]


# -- engines of the new tables --------------------------------------------------------------


def test_small_shared_tables_are_one_replicated_table_across_the_cluster() -> None:
    sql = MIGRATIONS["rollup_builds"].render(ClickHouseSettings(replicated=True), "analytics")

    assert (
        "ENGINE = ReplicatedMergeTree("
        "'/clickhouse/tables/global/analytics/rollup_builds', '{replica}')"
    ) in sql


def test_arrivals_are_counted_per_shard_beside_the_events() -> None:
    sql = MIGRATIONS["rollup_arrivals_local"].render(
        ClickHouseSettings(replicated=True), "analytics"
    )

    assert (
        "ENGINE = ReplicatedAggregatingMergeTree("
        "'/clickhouse/tables/{shard}/analytics/rollup_arrivals_local', '{replica}')"
    ) in sql
    assert "FROM analytics.events_local" in MIGRATIONS["rollup_arrivals_mv"].render(
        ClickHouseSettings(), "analytics"
    )


def test_single_node_rollup_tables_are_plain_merge_trees() -> None:
    single = ClickHouseSettings()

    assert "ENGINE = MergeTree()" in MIGRATIONS["rollup_page_views"].render(single, "a")
    assert "ENGINE = AggregatingMergeTree()" in MIGRATIONS["rollup_arrivals_local"].render(
        single, "a"
    )


# -- the hourly rollups ---------------------------------------------------------------------

TRAFFIC = HOURLY[0]
H = 1_727_740_800  # 2024-10-01 00:00:00 UTC
HOUR = 3600


def test_traffic_is_the_hourly_question_and_the_others_are_daily() -> None:
    assert [rollup.name for rollup in HOURLY] == ["traffic"]
    assert TRAFFIC.columns[0] == "hour"
    assert all(rollup.grain == "day" and rollup.columns[0] == "day" for rollup in ROLLUPS)


def test_the_live_hour_is_the_last_pass_unless_something_changed_since() -> None:
    sql = TRAFFIC.live_hour_sql("a")

    assert sql.count("FROM a.rollup_changes") == 1, "one read"
    assert sql.count("SELECT") == 1, "flat: 18.16 runs a subquery per use, chDB pays per plan"
    passes = "pass_of = 'rollup_traffic_by_hour'"
    assert f"argMaxIf(first_hour, changed_at, {passes})" in sql
    assert (
        "arrayFilter((hour, at, since) -> at >= since, groupArrayIf(first_hour, pass_of = ''), "
        f"groupArrayIf(changed_at, pass_of = ''), replicate(maxIf(changed_at, {passes})"
    ) in sql, "the changes stored since the latest pass"
    assert "toDateTime('2105-12-31 00:00:00', 'UTC')))), " in sql, "none: a far-off sentinel"
    assert sql.startswith("(SELECT greatest(least(")
    assert sql.endswith("toDateTime(today() - 1, 'UTC')) FROM a.rollup_changes)"), "not before"


def test_the_hourly_view_serves_builds_then_the_question_over_recent_events() -> None:
    single = body(MIGRATIONS["traffic"])
    cluster = TRAFFIC.served_sql("${database}", single=False)
    served, live = single.split("\nUNION ALL\n")
    live_hour = TRAFFIC.live_hour_sql("${database}")

    assert served == (
        "SELECT hour, event_type, events, anonymous_events\n"
        "FROM ${database}.rollup_traffic_by_hour FINAL\n"
        "ARRAY JOIN event_type, events, anonymous_events\n"
        f"WHERE hour < {live_hour}"
    )
    assert live.startswith("SELECT\n    toStartOfHour(event_time) AS hour,"), "not wrapped"
    local = f"FROM ${{database}}.events_recent_local FINAL\nPREWHERE event_time >= {live_hour}\n"
    assert local in live, "one node: its own table, no Distributed hop"
    assert cluster == single.replace("events_recent_local FINAL", "events_recent FINAL")


def test_hourly_builds_are_a_row_an_hour_the_latest_build_replacing() -> None:
    single = statement(MIGRATIONS["rollup_traffic_by_hour"])
    cluster = MIGRATIONS["rollup_traffic_by_hour"].render(
        ClickHouseSettings(replicated=True), "analytics"
    )

    assert (
        "ENGINE = ReplacingMergeTree(build_id)\nPARTITION BY toYYYYMM(hour)\nORDER BY hour"
        in single
    )
    assert (
        "ReplicatedReplacingMergeTree('/clickhouse/tables/global/analytics/"
        "rollup_traffic_by_hour', '{replica}', build_id)"
    ) in cluster
    for column in ("event_type Array(String)", "events Array(UInt64)"):
        assert f"    {column}," in single or f"    {column}\n" in single, column


def test_recent_events_are_kept_like_events_but_narrow_and_by_day() -> None:
    single = statement(MIGRATIONS["events_recent_local"])
    cluster = MIGRATIONS["events_recent_local"].render(
        ClickHouseSettings(replicated=True), "analytics"
    )

    assert "ORDER BY (event_type, user_id, event_time, event_id)" in single
    assert "PARTITION BY toYYYYMMDD(event_time)" in single
    assert "ENGINE = ReplacingMergeTree()" in single
    assert (
        "ReplicatedReplacingMergeTree("
        "'/clickhouse/tables/{shard}/analytics/events_recent_local', '{replica}')"
    ) in cluster
    for column in ("event_type", "event_time", "user_id", "anonymous_id", "event_id"):
        assert re.search(rf"^    {column} ", single, re.M), column
    copied = statement(MIGRATIONS["events_recent_mv"])
    assert copied.endswith(
        "AS SELECT event_id, event_type, event_time, user_id, anonymous_id\n"
        "FROM ${database}.events_local"
    )


def test_a_block_is_a_change_only_if_it_touches_an_hour_before_the_open_one() -> None:
    closed = statement(MIGRATIONS["rollup_changes_closed_mv"])
    dropped = statement(MIGRATIONS["drop_rollup_changes_mv"])

    assert closed.endswith(
        f"GROUP BY toDate(event_time)\nHAVING first_hour < toStartOfHour(now() + {VERIFY_MARGIN_S})"
    ), "the job's margin: a pass starting within it vouches for the hour before"
    assert list(MIGRATIONS).index("rollup_changes_closed_mv") < list(MIGRATIONS).index(
        "drop_rollup_changes_mv"
    ), "the new view first, so no block goes unrecorded"
    assert dropped == "DROP TABLE IF EXISTS ${database}.rollup_changes_mv"


def test_an_hourly_build_reads_its_hours_in_a_prewhere_and_lists_the_gaps() -> None:
    whole = TRAFFIC.build_hours_sql("a", [H, H + HOUR], 7)
    gaps = TRAFFIC.build_hours_sql("a", [H, H + 3 * HOUR], 7)

    assert whole.startswith(
        "INSERT INTO a.rollup_traffic_by_hour (hour, build_id, event_type, events, "
        "anonymous_events)\nSELECT hour, toUInt64(7), built_event_type, built_events, "
        "built_anonymous_events\n"
        f"FROM (SELECT arrayJoin([toDateTime({H}, 'UTC'), toDateTime({H + HOUR}, 'UTC')]) "
        "AS hour) AS hours\nANY LEFT JOIN\n"
    ), "a row for every hour built, empty arrays for an hour without events"
    assert "SELECT hour, groupArray(event_type) AS built_event_type, " in whole
    assert whole.endswith("GROUP BY hour\n) AS built USING hour")
    assert (
        f"PREWHERE event_time >= toDateTime({H}, 'UTC') "
        f"AND event_time < toDateTime({H + 2 * HOUR}, 'UTC')\n"
    ) in whole
    assert "toStartOfHour(event_time) IN" not in whole
    assert (
        f"AND toStartOfHour(event_time) IN (toDateTime({H}, 'UTC'), "
        f"toDateTime({H + 3 * HOUR}, 'UTC'))\n"
    ) in gaps


class HourlySql:
    """Answers an hourly pass's reads: the last pass (or none) and the changes since."""

    def __init__(
        self,
        now: int,
        last_pass: tuple[int, int] | None,
        changes: list[tuple[int, int]],
        arrived_days: list[int] = (),  # type: ignore[assignment]
    ) -> None:
        self.now, self.last_pass, self.changes = now, last_pass, changes
        self.arrived_days = list(arrived_days)
        self.statements: list[str] = []

    async def execute(
        self, query: str, *, settings: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        self.statements.append(query)
        if query == "SELECT toUInt32(now())":
            return [(self.now,)]
        if query.startswith("SELECT count(), toUInt32(max(changed_at))"):
            return [(1, *self.last_pass)] if self.last_pass else [(0, 0, 0)]
        if query.startswith("SELECT toUInt32(toDateTime(day, 'UTC')) FROM db.rollup_arrived"):
            return [(day,) for day in self.arrived_days]
        if query.startswith("SELECT toUInt32(first_hour), toUInt32(last_hour)"):
            since = int(re.findall(r"changed_at >= toDateTime\((\d+)", query)[0])
            assert self.last_pass and since == self.last_pass[0]
            return self.changes
        if query.startswith("SELECT count(), toUInt32(min(since))"):
            return [(1, self.now)]
        if query.startswith("SELECT DISTINCT partition FROM system.parts"):
            return []
        assert query.startswith("INSERT INTO db."), query
        return []

    def recorded_hours(self) -> list[list[int]]:
        return [
            [int(hour) for hour in re.findall(r"arrayJoin\(\[([\d, ]+)\]", q)[0].split(", ")]
            for q in self.statements
            if q.startswith("INSERT INTO db.rollup_hour_builds")
        ]


async def test_a_pass_builds_the_changed_and_the_newly_closed_hours_then_vouches() -> None:
    now = H + 30 * HOUR + 120  # 2024-10-02 06:02
    late = (H + 2 * HOUR, H + 3 * HOUR)  # a late block of two hours of 2024-10-01
    fake = HourlySql(now, (H + 29 * HOUR, H + 29 * HOUR), [late, (H + 30 * HOUR, H + 30 * HOUR)])

    built = await RollupJob(fake, "db", rollups=(), rng=random.Random(1)).run_once()

    expected = [H + 2 * HOUR, H + 3 * HOUR, H + 29 * HOUR]
    assert [int(hour.timestamp()) for _, hour in built] == expected  # type: ignore[attr-defined]
    assert fake.recorded_hours() == [expected], "one statement: one month"
    assert not [h for h in fake.recorded_hours()[0] if h >= H + 30 * HOUR], "the open hour waits"
    passes = [q for q in fake.statements if q.startswith("INSERT INTO db.rollup_changes")]
    assert len(passes) == 1
    assert (
        f"SELECT toDateTime({now - 60}, 'UTC'), toDateTime({H + 30 * HOUR}, 'UTC'), "
        f"toDateTime({H + 30 * HOUR}, 'UTC'), 'rollup_traffic_by_hour'"
    ) in passes[0]
    rows = next(q for q in fake.statements if q.startswith("INSERT INTO db.rollup_traffic_by"))
    assert fake.statements.index(rows) < fake.statements.index(passes[0]), "rows, then the pass"


async def test_a_pass_with_nothing_to_build_in_the_same_hour_writes_no_row() -> None:
    now = H + 30 * HOUR + 600
    quiet = HourlySql(now, (H + 29 * HOUR, H + 30 * HOUR), [])
    late = HourlySql(now, (H + 29 * HOUR, H + 30 * HOUR), [(H + HOUR, H + HOUR)])

    assert await RollupJob(quiet, "db", rollups=()).run_once() == []
    await RollupJob(late, "db", rollups=()).run_once()

    def passes(fake: HourlySql) -> list[str]:
        return [q for q in fake.statements if q.startswith("INSERT INTO db.rollup_changes")]

    assert passes(quiet) == [], "the previous pass says the same; the view reads every row"
    assert len(passes(late)) == 1


async def test_the_first_pass_builds_every_closed_hour_of_the_days_with_arrivals() -> None:
    now = H + 24 * HOUR + 2 * HOUR + 5
    fake = HourlySql(now, None, [], arrived_days=[H - 30 * 86_400, H, H + 86_400])

    built = await RollupJob(fake, "db", rollups=(), rng=random.Random(1)).run_once()

    assert len(built) == 24 + 24 + 2
    recorded = fake.recorded_hours()
    assert [len(month) for month in recorded] == [24, 26], "September's day, then October's"
