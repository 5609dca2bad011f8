"""Each question is written once: the raw view, the build and the served view all render it."""

from __future__ import annotations

import re
from datetime import date

import pytest

from clickstream.clickhouse.migrations import Migration, load
from clickstream.clickhouse.questions import Rollup
from clickstream.clickhouse.rollups import ROLLUPS
from clickstream.config import ClickHouseSettings

MIGRATIONS = {migration.name: migration for migration in load()}
CLICKS, VIEWS = ROLLUPS[0], ROLLUPS[1]
D1 = date(2024, 10, 1)


def statement(migration: Migration, database: str = "a") -> str:
    sql = migration.render(ClickHouseSettings(), database)
    return "\n".join(line for line in sql.splitlines() if not line.startswith("--")).strip()


def body(migration: Migration) -> str:
    """The SELECT of a `CREATE VIEW ... AS` statement."""
    return statement(migration).split(" AS\n", 1)[1]


@pytest.mark.parametrize("rollup", ROLLUPS, ids=lambda r: r.name)
def test_the_raw_view_is_the_question_over_all_history(rollup: Rollup) -> None:
    assert body(MIGRATIONS[f"{rollup.name}_raw"]) == rollup.raw_sql("a")


@pytest.mark.parametrize("rollup", ROLLUPS, ids=lambda r: r.name)
def test_the_view_is_rendered_from_the_question(rollup: Rollup) -> None:
    assert body(MIGRATIONS[rollup.name]) == rollup.served_sql("a")


@pytest.mark.parametrize("rollup", ROLLUPS, ids=lambda r: r.name)
def test_the_view_serves_fresh_builds_today_from_recent_and_other_days_live(
    rollup: Rollup,
) -> None:
    served, recent, stale = rollup.served_sql("a").split("\nUNION ALL\n")
    reads = rollup.select.count("${where}")
    days = rollup.days_sql("a")

    assert served.startswith(f"SELECT {', '.join(rollup.columns)}\nFROM a.{rollup.table}\n")
    assert "WHERE day < today() AND (day, build_id) IN" in served
    assert recent.count("FROM a.events_recent FINAL") == reads
    assert recent.count("AND event_time >= toDateTime(today(), 'UTC')") == reads
    assert "a.events FINAL" not in recent
    assert stale.count("FROM a.events FINAL") == reads
    assert stale.count("AND event_time < toDateTime(today(), 'UTC')") == reads
    assert stale.count("AND (toDate(event_time), toUInt64(0)) IN") == reads
    # One text for "which days", so modern ClickHouse computes it once per query.
    flat = " ".join(rollup.served_sql("a").split())
    assert flat.count(" ".join(days.split())) == 1 + 2 * reads
    assert f"rollup_name IN ('', '{rollup.name}')" in days


def test_the_live_parts_are_the_question_itself() -> None:
    _, recent, _ = VIEWS.served_sql("a").split("\nUNION ALL\n")
    inner = recent.split("\nFROM\n(\n", 1)[1].removesuffix("\n)")
    unindented = "\n".join(line.removeprefix("    ") for line in inner.splitlines())

    assert unindented == VIEWS.query(
        "a.events_recent FINAL", "\n    AND event_time >= toDateTime(today(), 'UTC')"
    )


def test_a_build_reads_exactly_its_days_and_writes_under_its_build_id() -> None:
    sql = CLICKS.build_sql("analytics", [date(2024, 10, 3), D1], 42)

    assert sql.startswith(
        "INSERT INTO analytics.rollup_clicks_by_element (build_id, day, element, page_url, "
    )
    assert "SELECT toUInt64(42) AS build_id, day, element" in sql
    assert (
        "WHERE event_type = 'click'\n"
        "    AND event_time >= toDateTime('2024-10-01 00:00:00', 'UTC')"
        " AND event_time < toDateTime('2024-10-04 00:00:00', 'UTC')\n"
        "    AND toDate(event_time) IN (toDate('2024-10-01'), toDate('2024-10-03'))"
    ) in sql
    assert "FROM analytics.events FINAL" in sql


def test_month_ends_roll_over_in_a_build() -> None:
    assert "< toDateTime('2024-11-01 00:00:00', 'UTC')" in VIEWS.build_sql(
        "a", [date(2024, 10, 31)], 1
    )


def test_a_day_is_fresh_only_with_every_row_and_erasure_seen() -> None:
    days = " ".join(VIEWS.days_sql("a").split())

    assert (
        "argMaxIf(rows_seen, build_id, rollup_name = 'page_views') >= sumMerge(arrived_rows)"
        in (days)
    )
    assert "max(erased_at) < argMaxIf(started_at, build_id, rollup_name = 'page_views')" in days
    assert "if(fresh, latest_build, toUInt64(0)) AS build_id" in days


def test_every_rollup_has_a_table_a_raw_view_and_a_view() -> None:
    for rollup in ROLLUPS:
        assert {rollup.table, f"{rollup.name}_raw", rollup.name} <= MIGRATIONS.keys()
        table = statement(MIGRATIONS[rollup.table])
        for column in ("build_id", *rollup.columns):
            assert re.search(rf"^    {column} \w+", table, re.M), (rollup.name, column)
