"""The rollup-backed views on modern ClickHouse (chDB, analyzer on), with the project's DDL.

Skipped where chDB is not installed (`uv pip install --no-deps chdb-core==26.9.0`).
Envelopes go through `events_ingest`, the ETL's door; a retried request is the
same envelopes inserted again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from clickstream.clickhouse.rollups import ROLLUPS, RollupJob
from clickstream.events import EXAMPLES, single_request, to_record
from tests.benchmarks.synthetic import SERVER_INSERT_SETTINGS, Shape, insert_sql

pytest.importorskip("chdb")

from tests.modern.engine import Chdb

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chdb]:
    chdb = Chdb(Path(tmp_path_factory.mktemp("chdb")))
    yield chdb
    chdb.close()


@pytest.fixture
def db(engine: Chdb) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:10]}"
    engine.migrate(name)
    yield name
    engine.query(f"DROP DATABASE IF EXISTS {name}")


def envelopes(events: list[dict[str, Any]], received_at: datetime) -> list[bytes]:
    return [
        to_record(
            single_request.validate_json(orjson.dumps({"event": body})).event,
            event_id=body["event_id"],
            received_at=received_at,
        ).value
        for body in events
    ]


def insert(engine: Chdb, db: str, values: list[bytes]) -> None:
    """One insert, as the ETL's writer sends one batch."""
    quoted = (value.decode().replace("\\", "\\\\").replace("'", "\\'") for value in values)
    settings = ", ".join(f"{key} = {value}" for key, value in SERVER_INSERT_SETTINGS.items())
    rows = ", ".join(f"('{value}')" for value in quoted)
    engine.query(f"INSERT INTO {db}.events_ingest (envelope) SETTINGS {settings} VALUES {rows}")


def clicks(day: date, count: int) -> list[dict[str, Any]]:
    return [
        {
            **EXAMPLES["click"],
            "event_id": str(uuid.uuid4()),
            "user_id": f"user-{n % 2}",
            "timestamp": f"{day.isoformat()}T10:00:{n:02d}Z",
        }
        for n in range(count)
    ]


def total_clicks(engine: Chdb, db: str, day: date) -> int:
    ((total,),) = engine.query(
        f"SELECT sum(clicks) FROM {db}.clicks_by_element WHERE day = '{day.isoformat()}'"
    )
    return int(total)


def fresh(engine: Chdb, db: str) -> set[tuple[str, str]]:
    return {
        (name, day)
        for name, day in engine.query(f"SELECT rollup_name, toString(day) FROM {db}.rollup_fresh")
    }


async def test_a_retried_request_counts_once(engine: Chdb, db: str) -> None:
    events = clicks(YESTERDAY, 5)
    now = datetime.now(UTC)
    insert(engine, db, envelopes(events, now))
    insert(engine, db, envelopes(events, now + timedelta(seconds=30)))

    built = await RollupJob(engine, db).run_once()

    assert set(built) == {(r.name, YESTERDAY) for r in ROLLUPS}
    assert ("clicks_by_element", YESTERDAY.isoformat()) in fresh(engine, db)
    assert total_clicks(engine, db, YESTERDAY) == 5
    ((users,),) = engine.query(f"SELECT sum(users) FROM {db}.clicks_by_element")
    assert int(users) == 2


async def test_a_late_event_is_counted_at_once_and_its_day_rebuilt(engine: Chdb, db: str) -> None:
    insert(engine, db, envelopes(clicks(YESTERDAY, 2), datetime.now(UTC)))
    await RollupJob(engine, db).run_once()

    insert(engine, db, envelopes(clicks(YESTERDAY, 1), datetime.now(UTC)))

    assert total_clicks(engine, db, YESTERDAY) == 3
    assert ("clicks_by_element", YESTERDAY.isoformat()) not in fresh(engine, db)
    assert set(await RollupJob(engine, db).run_once()) == {(r.name, YESTERDAY) for r in ROLLUPS}
    assert total_clicks(engine, db, YESTERDAY) == 3


async def test_every_view_equals_its_final_twin_on_generated_data(engine: Chdb, db: str) -> None:
    shape = Shape(events=40_000, end_s=int(time.time()) - 1800, per_day=10_000)
    for resent_after_s in (0, 60):
        engine.query(
            insert_sql(db, shape, 0, shape.events, resent_after_s=resent_after_s),
            SERVER_INSERT_SETTINGS,
        )

    built = await RollupJob(engine, db).run_once()

    assert len({day for _, day in built}) >= 3
    ((distinct_clicks,),) = engine.query(
        f"SELECT uniqExact(event_id) FROM {db}.events WHERE event_type = 'click'"
    )
    ((served_clicks,),) = engine.query(f"SELECT sum(clicks) FROM {db}.clicks_by_element")
    assert int(served_clicks) == int(distinct_clicks)
    for rollup in ROLLUPS:
        order = ", ".join(rollup.columns)
        served = engine.query(f"SELECT {order} FROM {db}.{rollup.name} ORDER BY {order}")
        raw = engine.query(f"SELECT {order} FROM {db}.{rollup.name}_raw ORDER BY {order}")
        assert served, rollup.name
        assert served == raw, rollup.name
