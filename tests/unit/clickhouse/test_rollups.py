"""The rollup job's logic: which days are stale, how the work is batched, what a build
writes and in which order, and which days of events_recent it drops."""

from __future__ import annotations

import random
import re
from datetime import date
from typing import Any

from clickstream.clickhouse.migrations import load
from clickstream.clickhouse.rollups import ROLLUPS, RollupJob, batches, stale
from clickstream.config import ClickHouseSettings

MIGRATIONS = {migration.name: migration for migration in load()}
D1, D2, TODAY = date(2024, 10, 1), date(2024, 10, 2), date(2024, 10, 3)
CLICKS, VIEWS = ROLLUPS[0], ROLLUPS[1]
SEPTEMBER = date(2024, 9, 30)


def every(rollups: Any, days: list[tuple[date, int]]) -> dict[str, list[tuple[date, int]]]:
    return {rollup.name: days for rollup in rollups}


# -- which days the job rebuilds, and how ---------------------------------------------------


def test_a_closed_day_served_live_is_stale_for_every_rollup() -> None:
    assert stale(every(ROLLUPS, [(D1, 0)]), TODAY) == {rollup: [D1] for rollup in ROLLUPS}


def test_today_and_later_are_never_built() -> None:
    assert stale(every(ROLLUPS, [(TODAY, 0), (date(2024, 10, 4), 0)]), TODAY) == {}


def test_only_the_rollups_without_a_fresh_build_are_rebuilt() -> None:
    days = every(ROLLUPS, [(D1, 5), (D2, 6)])
    days[VIEWS.name] = [(D2, 6), (D1, 0)]

    assert stale(days, TODAY) == {VIEWS: [D1]}


def test_work_is_batched_by_month_oldest_first() -> None:
    work = batches({VIEWS: [SEPTEMBER, D1, D2], CLICKS: [D2]})

    assert work == [{VIEWS: [SEPTEMBER]}, {VIEWS: [D1, D2], CLICKS: [D2]}]


# -- the job against a fake connection ----------------------------------------------------


class FakeSql:
    """Answers the job's reads from plain values; records every statement in order."""

    def __init__(
        self,
        days: dict[str, list[tuple[date, int]]],
        arrived: dict[date, int],
        recent: tuple[str, ...] = (),
    ) -> None:
        self.days = days
        self.arrived = arrived
        self.recent = recent
        self.statements: list[str] = []

    async def execute(
        self, query: str, *, settings: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        self.statements.append(query)
        if query == "SELECT toString(today())":
            return [(TODAY.isoformat(),)]
        if query.startswith("SELECT toString(day), build_id FROM ("):
            (name,) = set(re.findall(r"rollup_name = '(\w+)'", query))
            return [(day.isoformat(), build) for day, build in self.days[name]]
        if query.startswith("SELECT toUInt32(now()), toString(day), sumMerge(arrived_rows)"):
            asked = re.findall(r"toDate\('([\d-]+)'\)", query)
            return [
                (1_700_000_000, day, self.arrived[date.fromisoformat(day)])
                for day in asked
                if date.fromisoformat(day) in self.arrived
            ]
        if query.startswith("SELECT DISTINCT partition_id FROM"):
            return [(partition,) for partition in self.recent]
        assert query.startswith(("INSERT INTO db.", "ALTER TABLE db.")), query
        return []

    def writes(self) -> list[str]:
        return [query for query in self.statements if query.startswith(("INSERT", "ALTER"))]


async def test_the_job_snapshots_days_then_writes_rows_then_records_the_build() -> None:
    days = every(ROLLUPS, [(D1, 9), (D2, 9), (TODAY, 0)])
    days[CLICKS.name] = [(D1, 0), (D2, 0), (TODAY, 0)]
    fake = FakeSql(days, {D1: 7, D2: 8, TODAY: 3})

    built = await RollupJob(fake, "db", rng=random.Random(1)).run_once()

    assert built == [("clicks_by_element", D1), ("clicks_by_element", D2)]
    snapshot = [q for q in fake.statements if "sumMerge(arrived_rows)" in q and "now()" in q]
    assert len(snapshot) == 1, "one snapshot for the month's days"
    assert fake.statements.index(snapshot[0]) < fake.statements.index(fake.writes()[0])
    rows, record = fake.writes()
    assert rows.startswith("INSERT INTO db.rollup_clicks_by_element")
    assert "toDate(event_time) IN (toDate('2024-10-01'), toDate('2024-10-02'))" in rows
    assert record.startswith("INSERT INTO db.rollup_ledger")
    build_id = int(re.findall(r"toUInt64\((\d+)\) AS build_id", rows)[0])
    assert build_id // 1_000_000 == 1_700_000_000, "builds are ordered by their start"
    assert f"'clicks_by_element', toUInt64({build_id}), seen" in record
    assert "(toDate('2024-10-01'), toUInt64(7)), (toDate('2024-10-02'), toUInt64(8))" in record, (
        "the arrival counts read before the build"
    )
    assert "toDateTime(1700000000, 'UTC')" in record


async def test_nothing_is_built_when_every_closed_day_is_fresh() -> None:
    fake = FakeSql(every(ROLLUPS, [(D1, 9), (TODAY, 0)]), {D1: 7, TODAY: 3})

    assert await RollupJob(fake, "db").run_once() == []
    assert fake.writes() == []


async def test_recent_days_before_yesterday_are_dropped_on_every_node() -> None:
    fake = FakeSql(every(ROLLUPS, []), {}, recent=("20240930", "20241001"))

    await RollupJob(fake, "db", cluster="clickstream").run_once()

    (listing,) = [q for q in fake.statements if q.startswith("SELECT DISTINCT partition_id")]
    assert "FROM cluster('clickstream', system, parts)" in listing
    assert "partition_id < '20241002'" in listing, "today and yesterday are kept"
    assert fake.writes() == [
        "ALTER TABLE db.events_recent_local ON CLUSTER clickstream DROP PARTITION '2024-09-30'",
        "ALTER TABLE db.events_recent_local ON CLUSTER clickstream DROP PARTITION '2024-10-01'",
    ]


# -- engines of the new tables --------------------------------------------------------------


def test_small_shared_tables_are_one_replicated_table_across_the_cluster() -> None:
    sql = MIGRATIONS["rollup_page_views"].render(ClickHouseSettings(replicated=True), "analytics")

    assert (
        "ENGINE = ReplicatedMergeTree("
        "'/clickhouse/tables/global/analytics/rollup_page_views', '{replica}')"
    ) in sql


def test_the_ledger_and_recent_events_live_per_shard_beside_the_events() -> None:
    cluster = ClickHouseSettings(replicated=True)

    assert (
        "ENGINE = ReplicatedAggregatingMergeTree("
        "'/clickhouse/tables/{shard}/analytics/rollup_ledger_local', '{replica}')"
    ) in MIGRATIONS["rollup_ledger_local"].render(cluster, "analytics")
    assert (
        "ENGINE = ReplicatedReplacingMergeTree("
        "'/clickhouse/tables/{shard}/analytics/events_recent_local', '{replica}')"
    ) in MIGRATIONS["events_recent_local"].render(cluster, "analytics")
    for feeder in ("rollup_ledger_arrivals_mv", "events_recent_mv"):
        assert "FROM analytics.events_local" in MIGRATIONS[feeder].render(cluster, "analytics")


def test_recent_events_are_kept_like_events_but_by_day() -> None:
    sql = MIGRATIONS["events_recent_local"].template
    (events_key,) = re.findall(r"ORDER BY \(.*\)", MIGRATIONS["events_local"].template)

    assert events_key in sql, "the same sorting key: FINAL collapses the same rows"
    assert "PARTITION BY toDate(event_time)" in sql


def test_single_node_rollup_tables_are_plain_merge_trees() -> None:
    single = ClickHouseSettings()

    assert "ENGINE = MergeTree()" in MIGRATIONS["rollup_page_views"].render(single, "a")
    assert "ENGINE = AggregatingMergeTree()" in MIGRATIONS["rollup_ledger_local"].render(
        single, "a"
    )
    assert "ENGINE = ReplacingMergeTree()" in MIGRATIONS["events_recent_local"].render(single, "a")
