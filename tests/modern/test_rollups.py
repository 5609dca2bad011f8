"""The rollup-backed views on modern ClickHouse (chDB, analyzer on), with the project's DDL.

Envelopes go through `events_ingest`, the ETL's door, one block per request; a
retried request is the same events again, received later.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest

from clickstream import events
from clickstream.clickhouse.rollups import ROLLUPS, RollupJob
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


def job(clickhouse: ModernClickHouse, db: str) -> RollupJob:
    return RollupJob(AsyncSql(clickhouse), db)


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

    built = await job(clickhouse, db).run_once()

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
    assert set(await job(clickhouse, db).run_once()) == {(r.name, YESTERDAY) for r in ROLLUPS}
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
    for rollup in ROLLUPS:
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
