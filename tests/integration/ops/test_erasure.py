"""Erasure that neither a replay nor a redrive undoes, and reloads that are safe twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from clickstream.clickhouse.client import ClickHouse
from clickstream.config import Settings
from clickstream.etl import replay
from clickstream.privacy import erase, remaining
from tests.integration.pipeline import read_topic

pytestmark = pytest.mark.anytopology


def envelope(user_id: str, event_id: str | None = None) -> bytes:
    return orjson.dumps(
        {
            "schema_version": 1,
            "event_id": event_id or str(uuid.uuid4()),
            "event_type": "page_view",
            "received_at": "2024-10-03T14:30:00Z",
            "timestamp": "2024-10-03T14:30:00Z",
            "user_id": user_id,
            "page_url": "https://example.com/film",
        }
    )


async def produce(
    settings: Settings, topic: str, records: list[tuple[bytes, list[tuple[str, bytes]]]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for value, headers in records:
            await producer.send_and_wait(topic, value, key=b"k", headers=headers)
    finally:
        await producer.stop()


def dead(value: bytes, reason: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    return value, [
        ("dlq_reason", reason.encode()),
        ("dlq_topic", b"clickstream.events"),
        ("dlq_partition", b"0"),
        ("dlq_offset", b"7"),
        ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ]


async def visible(settings: Settings, user_id: str) -> tuple[int, int]:
    """What analysts see (FINAL): rows and distinct event ids."""
    async with ClickHouse(settings.clickhouse) as clickhouse:
        [(rows, ids)] = await clickhouse.execute(
            f"SELECT count(), uniqExact(event_id) FROM {settings.clickhouse.database}.events "
            f"FINAL WHERE user_id = '{user_id}'"
        )
    return int(rows), int(ids)


async def test_erase_then_replay_and_redrive_leave_nothing(ops_settings: Settings) -> None:
    settings = ops_settings
    erased, kept = f"erased-{uuid.uuid4()}", f"kept-{uuid.uuid4()}"
    start = datetime.now(UTC) - timedelta(minutes=1)
    await produce(
        settings,
        settings.kafka.topic,
        [(envelope(erased), []), (envelope(erased), []), (envelope(kept), [])],
    )
    # Dead letters of an earlier bug: both load now; the erased one must not.
    kept_late = str(uuid.uuid4())
    await produce(
        settings,
        settings.kafka.dlq_topic,
        [
            dead(envelope(erased), "old bug"),
            dead(envelope(kept, kept_late), "old bug"),
            dead(b"not json", "value is not JSON"),
        ],
    )

    loaded = await replay.replay(settings, start=start, end=None)
    assert (loaded.read, loaded.sent) == (3, 3)
    assert await visible(settings, erased) == (2, 2)

    done = await erase(
        settings.clickhouse,
        id_kind="user_id",
        id_value=erased,
        requested_by="test",
        # No ETL consumes this test's topic: nothing to wait for.
        suppression_wait_s=0,
    )
    assert done.rows_deleted == 2
    left = await remaining(settings.clickhouse, id_kind="user_id", id_value=erased)
    assert left and [count for _, count in left] == [0] * len(left)

    for _ in range(2):
        redriven = await replay.redrive(settings, reason=None, since=None)
        assert (redriven.read, redriven.sent, redriven.suppressed) == (3, 1, 1)
        assert dict(redriven.refused) == {"value is not JSON": 1}
        replayed = await replay.replay(settings, start=start, end=None)
        assert replayed.suppressed >= 2 and replayed.sent >= 2

    for node, count in await remaining(settings.clickhouse, id_kind="user_id", id_value=erased):
        assert count == 0, node
    assert await visible(settings, erased) == (0, 0)
    # The first kept event and the redriven one, each once however often reloaded.
    assert await visible(settings, kept) == (2, 2)

    async with ClickHouse(settings.clickhouse) as clickhouse:
        [audit] = await clickhouse.execute(
            "SELECT requested_by, id_kind, id_hash, rows_deleted, length(days) "
            f"FROM {settings.clickhouse.database}.erasures"
        )
    assert audit == ("test", "user_id", done.id_hash, 2, 1)
    assert erased not in repr(audit)


async def test_redrive_forwards_headers_without_the_dead_letter_ones(
    ops_settings: Settings,
) -> None:
    settings = ops_settings
    await produce(settings, settings.kafka.dlq_topic, [dead(envelope("someone"), "old bug")])
    tally = await replay.redrive(settings, reason="old", since=None)
    assert tally.sent == 1
    [record] = await read_topic(settings, settings.kafka.topic, 1)
    assert [key for key, _ in record.headers] == ["traceparent"]


async def test_dlq_filters_by_reason_and_time(ops_settings: Settings) -> None:
    settings = ops_settings
    await produce(
        settings,
        settings.kafka.dlq_topic,
        [dead(b"x", "value is not JSON"), dead(envelope("a"), "old bug")],
    )
    seen: list[tuple[str, str | None]] = []
    tally = await replay.list_dead_letters(
        settings,
        reason="JSON",
        since=None,
        show=lambda letter, why: seen.append((letter.reason, why)),
    )
    assert seen == [("value is not JSON", "value is not JSON")]
    assert tally.read == 1
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert (await replay.redrive(settings, reason=None, since=later)).read == 0
