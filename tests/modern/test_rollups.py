"""The rollup-backed views on modern ClickHouse (chDB, analyzer on), with the project's DDL.

Envelopes go through `events_ingest`, the ETL's door, one block per request; a
retried request is the same events again, received later.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest

from clickstream import events
from clickstream.clickhouse.rollups import HOURLY, QUESTIONS, ROLLUPS, RollupJob
from clickstream.privacy import EVENT_TABLES
from tests.benchmarks.synthetic import Shape, insert_sql
from tests.event_bodies import event
from tests.modern.engine import ModernClickHouse
from tests.modern.ingest import SERVER_INSERT_SETTINGS
from tests.modern.sql import AsyncSql

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def db(clickhouse: ModernClickHouse, migrate: Callable[[str], str]) -> Iterator[str]:
    name = migrate(f"rollups_{uuid.uuid4().hex[:10]}")
    yield name
    clickhouse.execute(f"DROP DATABASE IF EXISTS {name}")


def job(clickhouse: ModernClickHouse, db: str, *, hourly: bool = True) -> RollupJob:
    return RollupJob(AsyncSql(clickhouse), db, hourly=HOURLY if hourly else ())


async def settled_pass(clickhouse: ModernClickHouse, db: str) -> list[tuple[str, date]]:
    """A pass that vouches for every block stored so far: a second later, no margin
    (the deployed job's margin leaves the last minute's hours live until its next pass)."""
    await asyncio.sleep(1.1)
    return await RollupJob(AsyncSql(clickhouse), db, verify_margin_s=0).run_once()


def send(clickhouse: ModernClickHouse, db: str, bodies: list[dict[str, Any]]) -> None:
    """One request's events, enveloped by the API's code, received now, as one block."""
    request = events.batch_request.validate_json(orjson.dumps({"events": bodies}))
    received_at = datetime.now(UTC)
    values = [
        events.to_record(body, event_id=events.event_id_of(body), received_at=received_at).value
        for body in request.events
    ]
    clickhouse.insert_strings(f"{db}.events_ingest", "envelope", values, SERVER_INSERT_SETTINGS)


def comparable(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """NaN (an average over no timed view) equals itself here."""
    return [tuple("NaN" if value != value else value for value in row) for row in rows]


def clicks(day: date, count: int) -> list[dict[str, Any]]:
    return [
        event("click", user_id=f"user-{n % 2}", timestamp=f"{day.isoformat()}T10:00:{n:02d}Z")
        for n in range(count)
    ]


def total_clicks(clickhouse: ModernClickHouse, db: str, day: date) -> int:
    ((total,),) = clickhouse.execute(
        f"SELECT sum(clicks) FROM {db}.clicks_by_element WHERE day = '{day.isoformat()}'"
    )
    return int(total)


def fresh(clickhouse: ModernClickHouse, db: str) -> set[tuple[str, date]]:
    return set(clickhouse.execute(f"SELECT rollup_name, day FROM {db}.rollup_fresh"))


async def test_a_retried_request_counts_once(clickhouse: ModernClickHouse, db: str) -> None:
    sent = clicks(YESTERDAY, 5)
    send(clickhouse, db, sent)
    send(clickhouse, db, sent)

    built = await job(clickhouse, db, hourly=False).run_once()

    assert set(built) == {(r.name, YESTERDAY) for r in ROLLUPS}
    assert ("clicks_by_element", YESTERDAY) in fresh(clickhouse, db)
    assert total_clicks(clickhouse, db, YESTERDAY) == 5
    ((users,),) = clickhouse.execute(f"SELECT sum(users) FROM {db}.clicks_by_element")
    assert users == 2


async def test_a_late_event_is_counted_at_once_and_its_day_rebuilt(
    clickhouse: ModernClickHouse, db: str
) -> None:
    send(clickhouse, db, clicks(YESTERDAY, 2))
    await job(clickhouse, db).run_once()

    send(clickhouse, db, clicks(YESTERDAY, 1))

    assert total_clicks(clickhouse, db, YESTERDAY) == 3
    assert ("clicks_by_element", YESTERDAY) not in fresh(clickhouse, db)
    rebuilt = await job(clickhouse, db, hourly=False).run_once()
    assert set(rebuilt) == {(r.name, YESTERDAY) for r in ROLLUPS}
    assert total_clicks(clickhouse, db, YESTERDAY) == 3


async def test_every_view_equals_its_final_twin_on_generated_data(
    clickhouse: ModernClickHouse, db: str
) -> None:
    shape = Shape(events=20_000, end_s=int(time.time()) - 1800, per_day=5_000)
    for resent_after_s in (0, 60):
        sql = insert_sql(db, shape, 0, shape.events, resent_after_s=resent_after_s)
        await AsyncSql(clickhouse).execute(sql, settings=SERVER_INSERT_SETTINGS)

    built = await job(clickhouse, db).run_once()

    assert len({day for _, day in built}) >= 3
    ((distinct_clicks,),) = clickhouse.execute(
        f"SELECT uniqExact(event_id) FROM {db}.events WHERE event_type = 'click'"
    )
    ((served_clicks,),) = clickhouse.execute(f"SELECT sum(clicks) FROM {db}.clicks_by_element")
    assert served_clicks == distinct_clicks
    for rollup in QUESTIONS:
        order = ", ".join(rollup.columns)
        served = clickhouse.execute(f"SELECT {order} FROM {db}.{rollup.name} ORDER BY {order}")
        raw = clickhouse.execute(f"SELECT {order} FROM {db}.{rollup.name}_raw ORDER BY {order}")
        assert served, rollup.name
        assert comparable(served) == comparable(raw), rollup.name


async def test_every_anonymous_day_of_a_visitor_identified_later_is_shown(
    clickhouse: ModernClickHouse, db: str
) -> None:
    """Modern ClickHouse's ANY INNER JOIN keeps one row per key from the left too: a
    visitor's second anonymous day would vanish (18.16 kept every left row)."""
    two_days_ago = TODAY - timedelta(days=2)

    def page(day: date, clock: str, **ids: Any) -> dict[str, Any]:
        return event("page_view", timestamp=f"{day.isoformat()}T{clock}Z", **ids)

    send(clickhouse, db, [page(two_days_ago, "10:00:00", user_id=None, anonymous_id="anon-1")])
    send(
        clickhouse,
        db,
        [
            page(YESTERDAY, "09:00:00", user_id=None, anonymous_id="anon-1"),
            page(YESTERDAY, "09:00:30", user_id=None, anonymous_id="anon-1"),
            page(YESTERDAY, "09:01:00", user_id="user-9", anonymous_id="anon-1"),
            page(YESTERDAY, "09:02:00", user_id=None, anonymous_id="anon-2"),
        ],
    )
    await job(clickhouse, db).run_once()

    rows = clickhouse.execute(
        f"SELECT day, user_id, anonymous_id, events FROM {db}.identified_visitors ORDER BY day"
    )
    assert rows == [
        (two_days_ago, "user-9", "anon-1", 1),
        (YESTERDAY, "user-9", "anon-1", 2),
    ]


# -- the hourly rollup (traffic) ----------------------------------------------------------

TRAFFIC = HOURLY[0]


def clicks_at(day: date, hour: int, count: int) -> list[dict[str, Any]]:
    return [
        event(
            "click", user_id=f"user-{n % 2}", timestamp=f"{day.isoformat()}T{hour:02d}:10:{n:02d}Z"
        )
        for n in range(count)
    ]


def hourly_clicks(clickhouse: ModernClickHouse, db: str, view: str = "traffic") -> dict[int, int]:
    """Clicks per hour (epoch seconds) in `view`."""
    rows = clickhouse.execute(
        f"SELECT toUInt32(hour) AS at, sum(events) FROM {db}.{view} "
        "WHERE event_type = 'click' GROUP BY at"
    )
    return {int(hour): int(total) for hour, total in rows}


def live_hour(clickhouse: ModernClickHouse, db: str) -> int:
    ((hour,),) = clickhouse.execute(f"SELECT toUInt32({TRAFFIC.live_hour_sql(db)})")
    return int(hour)


def at_hour(day: date, hour: int) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp())


def built_hours(built: list[tuple[str, date]]) -> set[int]:
    return {
        int(hour.timestamp())
        for name, hour in built
        if name == TRAFFIC.name and isinstance(hour, datetime)
    }


def test_an_hourly_question_answers_in_its_rollups_column_order(
    clickhouse: ModernClickHouse, db: str
) -> None:
    """The view's live branch is the question itself (UNION ALL matches by position)."""
    for rollup in HOURLY:
        question = rollup.query(db)
        described = clickhouse.execute(f"DESCRIBE TABLE ({question})")
        assert tuple(row[0] for row in described) == rollup.columns, rollup.name


async def test_a_retried_request_counts_once_per_hour(
    clickhouse: ModernClickHouse, db: str
) -> None:
    sent = clicks_at(YESTERDAY, 10, 5)
    send(clickhouse, db, sent)
    send(clickhouse, db, sent)

    assert hourly_clicks(clickhouse, db) == {at_hour(YESTERDAY, 10): 5}, "live, before any pass"
    built = await settled_pass(clickhouse, db)

    assert at_hour(YESTERDAY, 10) in built_hours(built)
    assert hourly_clicks(clickhouse, db) == {at_hour(YESTERDAY, 10): 5}
    open_hour = int(time.time()) // 3600 * 3600
    assert live_hour(clickhouse, db) == open_hour, "every closed hour is served from builds"


async def test_closed_hours_are_served_from_their_builds(
    clickhouse: ModernClickHouse, db: str
) -> None:
    """Rows the job did not see (deleted under it, no erasure record) do not change a
    served hour: the view reads the build, not the events."""
    send(clickhouse, db, clicks_at(YESTERDAY, 10, 3))
    await settled_pass(clickhouse, db)

    for table in EVENT_TABLES:  # both copies: no live read could see the clicks
        clickhouse.execute(
            f"ALTER TABLE {db}.{table} DELETE WHERE event_type = 'click' "
            "SETTINGS mutations_sync = 2"
        )

    assert hourly_clicks(clickhouse, db, "traffic_raw") == {}
    assert hourly_clicks(clickhouse, db) == {at_hour(YESTERDAY, 10): 3}


async def test_a_late_event_is_counted_at_once_and_only_its_hours_rebuilt(
    clickhouse: ModernClickHouse, db: str
) -> None:
    send(clickhouse, db, clicks_at(YESTERDAY, 10, 2) + clicks_at(YESTERDAY, 20, 1))
    await settled_pass(clickhouse, db)
    served_until = live_hour(clickhouse, db)

    send(clickhouse, db, clicks_at(YESTERDAY, 10, 1))

    assert live_hour(clickhouse, db) == at_hour(YESTERDAY, 10)
    assert hourly_clicks(clickhouse, db) == {at_hour(YESTERDAY, 10): 3, at_hour(YESTERDAY, 20): 1}
    rebuilt = await settled_pass(clickhouse, db)
    newly_closed = set(range(served_until, int(time.time()) // 3600 * 3600, 3600))
    assert built_hours(rebuilt) == {at_hour(YESTERDAY, 10)} | newly_closed
    assert hourly_clicks(clickhouse, db) == {at_hour(YESTERDAY, 10): 3, at_hour(YESTERDAY, 20): 1}
    assert live_hour(clickhouse, db) > at_hour(YESTERDAY, 20)


def erase(clickhouse: ModernClickHouse, db: str, where: str, *, rows: int, day: date) -> None:
    """As `clickstream erase` does: the rows from every copy, then the audit record."""
    for table in EVENT_TABLES:
        clickhouse.execute(
            f"ALTER TABLE {db}.{table} DELETE WHERE {where} SETTINGS mutations_sync = 2"
        )
    clickhouse.execute(
        f"INSERT INTO {db}.erasures (requested_at, requested_by, id_kind, id_hash, rows_deleted, "
        f"days, finished_at) VALUES (now(), 'test', 'user_id', 'h', {rows}, ['{day}'], now())"
    )


async def test_an_erasure_makes_its_days_hours_live(clickhouse: ModernClickHouse, db: str) -> None:
    send(clickhouse, db, clicks_at(YESTERDAY, 10, 2))
    await settled_pass(clickhouse, db)

    erase(clickhouse, db, "user_id = 'user-1'", rows=1, day=YESTERDAY)

    assert live_hour(clickhouse, db) == at_hour(YESTERDAY, 0)
    assert hourly_clicks(clickhouse, db) == {at_hour(YESTERDAY, 10): 1}
    await settled_pass(clickhouse, db)
    assert hourly_clicks(clickhouse, db) == {at_hour(YESTERDAY, 10): 1}


async def test_an_hour_whose_events_are_all_erased_is_empty_after_its_rebuild(
    clickhouse: ModernClickHouse, db: str
) -> None:
    """A build that finds nothing replaces the hour's older build (a row of empty arrays)."""
    send(clickhouse, db, clicks_at(YESTERDAY, 10, 2) + clicks_at(YESTERDAY, 11, 1))
    await settled_pass(clickhouse, db)

    erase(clickhouse, db, "toHour(event_time) = 10", rows=2, day=YESTERDAY)
    rebuilt = await settled_pass(clickhouse, db)

    assert at_hour(YESTERDAY, 10) in built_hours(rebuilt)
    assert hourly_clicks(clickhouse, db) == {at_hour(YESTERDAY, 11): 1}


async def test_the_live_hours_are_read_from_the_recent_events(
    clickhouse: ModernClickHouse, db: str
) -> None:
    open_hour = int(time.time()) // 3600 * 3600
    now = datetime.now(UTC)
    send(clickhouse, db, clicks_at(now.date(), now.hour, 2))
    await settled_pass(clickhouse, db)

    assert hourly_clicks(clickhouse, db) == {open_hour: 2}
    clickhouse.execute(f"TRUNCATE TABLE {db}.events_recent_local")
    assert hourly_clicks(clickhouse, db) == {}, "the open hour came from events_recent"
    assert hourly_clicks(clickhouse, db, "traffic_raw") == {open_hour: 2}


def test_only_blocks_touching_an_hour_a_pass_may_have_built_are_changes(
    clickhouse: ModernClickHouse, db: str
) -> None:
    """Current events write no change row (the live hour's read stays small); a block
    with an hour before the open one does, whatever else it holds."""
    now = datetime.now(UTC)
    ahead, behind = now + timedelta(hours=2), now - timedelta(hours=2)
    send(clickhouse, db, clicks_at(ahead.date(), ahead.hour, 2))
    changes = f"SELECT toUInt32(first_hour) FROM {db}.rollup_changes WHERE pass_of = ''"
    assert clickhouse.execute(changes) == []

    send(
        clickhouse,
        db,
        clicks_at(behind.date(), behind.hour, 1) + clicks_at(now.date(), now.hour, 1),
    )
    first_hours = {int(hour) for (hour,) in clickhouse.execute(changes)}
    assert at_hour(behind.date(), behind.hour) in first_hours


async def test_a_late_event_older_than_the_recent_days_counts_from_the_next_pass(
    clickhouse: ModernClickHouse, db: str
) -> None:
    """The live part reads events_recent only: an hour before yesterday is served from
    its build until the job rebuilds it, and a retry of a counted event never counts twice."""
    old = TODAY - timedelta(days=5)
    first = clicks_at(old, 8, 1)
    send(clickhouse, db, first)
    await settled_pass(clickhouse, db)
    send(clickhouse, db, first + clicks_at(old, 9, 2))  # a retry, and two new late clicks

    assert live_hour(clickhouse, db) == at_hour(YESTERDAY, 0), "never before yesterday"
    assert hourly_clicks(clickhouse, db) == {at_hour(old, 8): 1}
    assert hourly_clicks(clickhouse, db, "traffic_raw") == {at_hour(old, 8): 1, at_hour(old, 9): 2}
    partitions = clickhouse.execute(
        f"SELECT DISTINCT partition FROM system.parts WHERE database = '{db}' "
        "AND table = 'events_recent_local' AND active"
    )
    assert partitions == [(old.strftime("%Y%m%d"),)], "the late block was copied"
    rebuilt = await settled_pass(clickhouse, db)
    assert {at_hour(old, 8), at_hour(old, 9)} <= built_hours(rebuilt)
    assert hourly_clicks(clickhouse, db) == {at_hour(old, 8): 1, at_hour(old, 9): 2}
    assert not clickhouse.execute(
        f"SELECT partition FROM system.parts WHERE database = '{db}' "
        "AND table = 'events_recent_local' AND active"
    ), "days before the day before yesterday are dropped"
