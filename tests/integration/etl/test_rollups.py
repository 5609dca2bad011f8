"""Rollup-backed analyst views on ClickHouse 18.16: exact, retried events once, stale days live.

Each test checks that the rollup path really served (the day is in
`rollup_fresh`), so a pass cannot come from the live path alone.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from clickstream.clickhouse.client import ClickHouse
from clickstream.clickhouse.rollups import HOURLY, QUESTIONS, ROLLUPS, RollupJob
from clickstream.config import Settings
from tests.benchmarks.synthetic import SERVER_INSERT_SETTINGS, Shape, insert_sql
from tests.event_bodies import event
from tests.integration.pipeline import (
    api_client,
    post_events,
    query,
    running_etl,
    wait_for_ids,
    wait_until,
)

TODAY = datetime.now(UTC).date()
YESTERDAY, BEFORE = TODAY - timedelta(days=1), TODAY - timedelta(days=2)
# (view, the column counting events) for the five event types
COUNTED = [
    ("clicks_by_element", "clicks", "click"),
    ("page_views", "views", "page_view"),
    ("time_on_page", "views", "page_view"),
    ("search_filters", "uses", "search_filter_use"),
    ("quality_changes", "changes", "quality_change"),
    ("videos_completed", "completions", "video_complete"),
]


def at(day: date, clock: str) -> str:
    return f"{day.isoformat()}T{clock}Z"


def day_events(day: date) -> list[dict[str, Any]]:
    return [
        event("click", user_id="a", element="film_card", page_url="/films", timestamp=at(day, "09:00:00")),
        event("click", user_id=None, element="trailer", page_url="/films/1", timestamp=at(day, "09:01:00")),
        event("page_view", user_id="a", page_url="/home", timestamp=at(day, "10:00:00")),
        event("page_view", user_id="a", page_url="/films", timestamp=at(day, "10:00:30")),
        event("page_view", user_id="b", page_url="/home", timestamp=at(day, "10:01:00")),
        event("search_filter_use", user_id="a", filter_type="genre", filter_value="comedy", timestamp=at(day, "11:00:00")),
        event("quality_change", user_id="b", from_quality="1080p", to_quality="480p", timestamp=at(day, "12:00:00")),
        event("video_complete", user_id="a", video_id="v1", duration=100, timestamp=at(day, "13:00:00")),
    ]  # fmt: skip


async def rollup(settings: Settings) -> list[tuple[str, date]]:
    """A pass over the daily rollups (the hourly one has tests of its own below)."""
    async with ClickHouse(settings.clickhouse) as clickhouse:
        return await RollupJob(clickhouse, settings.clickhouse.database, hourly=()).run_once()


async def hourly_pass(settings: Settings) -> set[int]:
    """A pass over the hourly rollup that vouches for every block stored so far (a
    second later, no margin); the hours built, in epoch seconds."""
    await asyncio.sleep(1.1)
    async with ClickHouse(settings.clickhouse) as clickhouse:
        job = RollupJob(clickhouse, settings.clickhouse.database, rollups=(), verify_margin_s=0)
        built = await job.run_once()
    return {int(hour.timestamp()) for _, hour in built if isinstance(hour, datetime)}


async def totals(settings: Settings, day: date) -> dict[str, int]:
    db, found = settings.clickhouse.database, {}
    for view, column, _ in COUNTED:
        ((total,),) = await query(
            settings, f"SELECT sum({column}) FROM {db}.{view} WHERE day = '{day.isoformat()}'"
        )
        found[view] = int(total)
    return found


def expected(events: list[dict[str, Any]]) -> dict[str, int]:
    return {view: sum(e["event_type"] == kind for e in events) for view, _, kind in COUNTED}


async def fresh_days(settings: Settings) -> set[tuple[str, date]]:
    rows = await query(
        settings, f"SELECT rollup_name, day FROM {settings.clickhouse.database}.rollup_fresh"
    )
    return {(name, day) for name, day in rows}


def comparable(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """NaN (an average over no timed view) equals itself here."""
    return [tuple("NaN" if value != value else value for value in row) for row in rows]


async def assert_views_equal_raw(settings: Settings, *, every_view_has_rows: bool) -> None:
    db = settings.clickhouse.database
    for rollup in QUESTIONS:
        order = ", ".join(rollup.columns)
        served = await query(settings, f"SELECT {order} FROM {db}.{rollup.name} ORDER BY {order}")
        raw = await query(settings, f"SELECT {order} FROM {db}.{rollup.name}_raw ORDER BY {order}")
        assert served or not every_view_has_rows, f"{rollup.name}: no rows"
        assert comparable(served) == comparable(raw), rollup.name


async def stored_rows(settings: Settings) -> int:
    ((rows,),) = await query(settings, f"SELECT count() FROM {settings.clickhouse.database}.events")
    return int(rows)


async def send_twice(
    settings: Settings, client: httpx.AsyncClient, events: list[dict[str, Any]]
) -> None:
    """The client never saw the answers and sends everything again: new requests, new
    received_at, the same event_ids. Returns once both copies are stored."""
    ids = await post_events(client, events)
    await post_events(client, events)
    await wait_for_ids(settings, set(ids))

    async def both_copies_stored() -> bool:
        return await stored_rows(settings) == 2 * len(events)

    await wait_until(both_copies_stored, what="both copies of every event")


async def test_retried_requests_count_once_in_every_rollup_backed_view(settings: Settings) -> None:
    closed = day_events(BEFORE) + day_events(YESTERDAY)
    async with api_client(settings) as client, running_etl(settings):
        await send_twice(settings, client, closed)

    built = await rollup(settings)

    everything = {(r.name, day) for r in ROLLUPS for day in (BEFORE, YESTERDAY)}
    assert set(built) == everything
    assert everything <= await fresh_days(settings)
    for day in (BEFORE, YESTERDAY):
        assert await totals(settings, day) == expected(day_events(day))
    # traffic serves the hours before yesterday from its builds only (docs/analytics.md).
    assert epoch(BEFORE, 9) in await hourly_pass(settings)
    # The hand-made days hold the five original types only: some views stay empty.
    await assert_views_equal_raw(settings, every_view_has_rows=False)
    assert await rollup(settings) == [], "a fresh day is not rebuilt"


async def test_a_late_event_is_counted_at_once_and_its_day_rebuilt(settings: Settings) -> None:
    # Mutation check: with `rollup_fresh` treating every built day as fresh
    # (its rows_seen condition removed), the late click stays invisible here.
    first = day_events(YESTERDAY)
    late = event(
        "click", user_id="c", element="banner", page_url="/", timestamp=at(YESTERDAY, "23:59:00")
    )
    async with api_client(settings) as client, running_etl(settings):
        await wait_for_ids(settings, set(await post_events(client, first)))
        assert len(await rollup(settings)) == len(ROLLUPS)
        await wait_for_ids(settings, set(await post_events(client, [late])))

    assert (await totals(settings, YESTERDAY))["clicks_by_element"] == 3
    assert ("clicks_by_element", YESTERDAY) not in await fresh_days(settings)

    assert set(await rollup(settings)) == {(r.name, YESTERDAY) for r in ROLLUPS}
    assert ("clicks_by_element", YESTERDAY) in await fresh_days(settings)
    assert (await totals(settings, YESTERDAY))["clicks_by_element"] == 3


async def test_an_erased_day_is_served_live_until_rebuilt(settings: Settings) -> None:
    db = settings.clickhouse.database
    async with api_client(settings) as client, running_etl(settings):
        ids = await post_events(client, day_events(YESTERDAY) + day_events(BEFORE))
        await wait_for_ids(settings, set(ids))
    await rollup(settings)

    async with ClickHouse(settings.clickhouse) as clickhouse:
        await clickhouse.execute(
            f"ALTER TABLE {db}.events_local DELETE "
            f"WHERE user_id = 'a' AND toDate(event_time) = '{YESTERDAY.isoformat()}'"
        )

        async def mutations_done() -> bool:
            rows = await clickhouse.execute(
                f"SELECT count() FROM system.mutations WHERE database = '{db}' AND NOT is_done"
            )
            return bool(rows[0][0] == 0)

        await wait_until(mutations_done, what="the erasure's mutation")
        await clickhouse.execute(
            f"INSERT INTO {db}.erasures SELECT now(), 'test', 'user_id', 'hash-of-a', 6, "
            f"[toDate('{YESTERDAY.isoformat()}')], now()"
        )
    # The erased day goes live at once; the untouched day still serves its build.
    assert (await totals(settings, YESTERDAY))["clicks_by_element"] == 1
    assert (await totals(settings, BEFORE))["clicks_by_element"] == 2
    assert ("page_views", BEFORE) in await fresh_days(settings)
    assert ("page_views", YESTERDAY) not in await fresh_days(settings)

    await asyncio.sleep(1.1)  # the rebuild must start in a later second than the erasure finished
    assert set(await rollup(settings)) == {(r.name, YESTERDAY) for r in ROLLUPS}
    assert ("page_views", YESTERDAY) in await fresh_days(settings)
    assert (await totals(settings, YESTERDAY))["page_views"] == 1


async def test_every_view_equals_its_final_twin_on_generated_data(settings: Settings) -> None:
    db = settings.clickhouse.database
    # Four days up to half an hour ago: three closed (rollups), today live.
    shape = Shape(events=20_000, end_s=int(time.time()) - 1800, per_day=5_000)
    async with ClickHouse(settings.clickhouse) as clickhouse:
        for resent_after_s in (0, 60):
            await clickhouse.execute(
                insert_sql(db, shape, 0, shape.events, resent_after_s=resent_after_s),
                settings=SERVER_INSERT_SETTINGS,
            )
        built = await RollupJob(clickhouse, db).run_once()
        ((distinct_clicks,),) = await clickhouse.execute(
            f"SELECT uniqExact(event_id) FROM {db}.events WHERE event_type = 'click'"
        )
        ((served_clicks,),) = await clickhouse.execute(
            f"SELECT sum(clicks) FROM {db}.clicks_by_element"
        )

    assert len({day for _, day in built}) >= 3
    assert served_clicks == distinct_clicks
    await assert_views_equal_raw(settings, every_view_has_rows=True)


ANALYTICS_DASHBOARD = (
    Path(__file__).resolve().parents[3] / "helm" / "clickstream" / "dashboards" / "analytics.json"
)


def panel_sql(sql: str, database: str) -> str:
    """A panel's query as Grafana's ClickHouse plugin sends it, over the last 30 days."""
    return (
        sql.replace("$__fromTime", "(now() - 30 * 86400)")
        .replace("$__toTime", "now()")
        .replace("clickstream.", f"{database}.")
    )


async def test_every_dashboard_panel_answers_on_the_real_stack(settings: Settings) -> None:
    db = settings.clickhouse.database
    shape = Shape(events=20_000, end_s=int(time.time()) - 1800, per_day=5_000)
    async with ClickHouse(settings.clickhouse) as clickhouse:
        await clickhouse.execute(
            insert_sql(db, shape, 0, shape.events), settings=SERVER_INSERT_SETTINGS
        )
        await RollupJob(clickhouse, db).run_once()
        panels = json.loads(ANALYTICS_DASHBOARD.read_text())["panels"]
        assert panels
        for panel in panels:
            rows = await clickhouse.execute(panel_sql(panel["targets"][0]["rawSql"], db))
            assert rows, f"panel {panel['title']!r} answered nothing"


async def test_every_anonymous_day_of_a_visitor_identified_later_is_shown(
    settings: Settings,
) -> None:
    """The same visitor on two anonymous days, then identified: both days show (the
    modern tier holds chDB to the same; its ANY INNER JOIN dropped the second)."""

    def page(day: date, clock: str, user_id: str | None, anonymous_id: str) -> dict[str, Any]:
        return event(
            "page_view", user_id=user_id, anonymous_id=anonymous_id, timestamp=at(day, clock)
        )

    sent = [
        page(BEFORE, "10:00:00", None, "anon-1"),
        page(YESTERDAY, "09:00:00", None, "anon-1"),
        page(YESTERDAY, "09:00:30", None, "anon-1"),
        page(YESTERDAY, "09:01:00", "user-9", "anon-1"),
        page(YESTERDAY, "09:02:00", None, "anon-2"),
    ]
    async with api_client(settings) as client, running_etl(settings):
        await wait_for_ids(settings, set(await post_events(client, sent)))
    await rollup(settings)

    rows = await query(
        settings,
        "SELECT day, user_id, anonymous_id, events "
        f"FROM {settings.clickhouse.database}.identified_visitors ORDER BY day",
    )
    assert rows == [(BEFORE, "user-9", "anon-1", 1), (YESTERDAY, "user-9", "anon-1", 2)]


TRAFFIC = HOURLY[0]


def epoch(day: date, hour: int) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp())


async def hourly_clicks(settings: Settings) -> dict[int, int]:
    rows = await query(
        settings,
        f"SELECT toUInt32(hour) AS at, sum(events) FROM {settings.clickhouse.database}.traffic "
        "WHERE event_type = 'click' GROUP BY at",
    )
    return {int(hour): int(total) for hour, total in rows}


async def live_hour(settings: Settings) -> int:
    ((hour,),) = await query(
        settings, f"SELECT toUInt32({TRAFFIC.live_hour_sql(settings.clickhouse.database)})"
    )
    return int(hour)


async def test_traffic_counts_retried_events_once_and_a_late_one_at_once(
    settings: Settings,
) -> None:
    sent = [
        event("click", user_id=f"u-{n}", timestamp=at(YESTERDAY, f"09:0{n}:00")) for n in range(3)
    ]
    late = event("click", user_id="u-9", timestamp=at(YESTERDAY, "09:30:00"))
    async with api_client(settings) as client, running_etl(settings):
        await send_twice(settings, client, sent)
        assert epoch(YESTERDAY, 9) in await hourly_pass(settings)
        # Every closed hour is served from its build now.
        served_until = await live_hour(settings)
        assert served_until == int(time.time()) // 3600 * 3600
        assert await hourly_clicks(settings) == {epoch(YESTERDAY, 9): 3}

        await wait_for_ids(settings, set(await post_events(client, [late])))

    assert await live_hour(settings) == epoch(YESTERDAY, 9)
    assert await hourly_clicks(settings) == {epoch(YESTERDAY, 9): 4}
    rebuilt = await hourly_pass(settings)
    newly_closed = set(range(served_until, int(time.time()) // 3600 * 3600, 3600))
    assert rebuilt == {epoch(YESTERDAY, 9)} | newly_closed, "the late event's hour only"
    assert await live_hour(settings) == int(time.time()) // 3600 * 3600
    assert await hourly_clicks(settings) == {epoch(YESTERDAY, 9): 4}
