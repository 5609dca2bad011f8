"""A row that passes the ETL's checks but ClickHouse refuses: dead-lettered, the partition flows.

The refused row: a v1 envelope whose `timestamp` is an ISO 8601 week date
("2024-W40-4T10:00:00Z"). Python's fromisoformat (the ETL's check) reads it;
the materialized view's parseDateTimeBestEffort refuses it with code 41
(CANNOT_PARSE_DATETIME), on 18.16 as on modern ClickHouse (tests/modern).
"""

from __future__ import annotations

import uuid

import orjson
from aiokafka import AIOKafkaProducer

from clickstream import events
from clickstream.config import Settings
from tests.integration.pipeline import (
    api_client,
    event,
    post_events,
    produce_raw,
    read_topic,
    running_etl,
    stored_ids,
    wait_for_ids,
)

REFUSED_TIMESTAMP = "2024-W40-4T10:00:00Z"
CANNOT_PARSE_DATETIME = b"41"
# "Within seconds": the ETL flushes every 0.3 s here (tests/integration/conftest.py).
LATER_EVENT_VISIBLE_S = 5.0


def refused_envelope() -> bytes:
    return orjson.dumps(
        {
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "received_at": "2024-10-03T10:00:01.000000Z",
            "event_type": "click",
            "timestamp": REFUSED_TIMESTAMP,
            "user_id": "u-refused",
            "element": "button",
            "page_url": "https://example.com/",
        }
    )


def good_envelope() -> tuple[str, bytes]:
    """A valid envelope as the API writes it, and its event_id."""
    body = event("click", user_id="u-after-refused")
    parsed = events.single_request.validate_json(orjson.dumps({"event": body})).event
    record = events.to_record(parsed, event_id=body["event_id"], received_at="2024-10-03T10:00:02Z")
    return record.event_id, record.value


async def test_a_row_clickhouse_refuses_is_dead_lettered_and_its_batch_stored(
    settings: Settings,
) -> None:
    before = [event("click", user_id=f"user-{i}") for i in range(3)]
    after = [event("click", user_id=f"user-{i}") for i in range(3, 6)]
    refused = refused_envelope()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        async with api_client(settings) as client:
            ids = await post_events(client, before)
            await producer.send_and_wait(settings.kafka.topic, refused, partition=0)
            ids += await post_events(client, after)
    finally:
        await producer.stop()

    async with running_etl(settings) as etl:
        await wait_for_ids(settings, set(ids), timeout_s=60)
        [dead] = await read_topic(settings, settings.kafka.dlq_topic, 1)
        assert etl.metrics.dead_lettered.labels("refused")._value.get() == 1

        # The refused row's own partition, not only the others, goes on.
        later_id, later = good_envelope()
        await produce_raw(settings, later, partition=0)
        await wait_for_ids(settings, {later_id}, timeout_s=LATER_EVENT_VISIBLE_S)

    headers = dict(dead.headers)
    assert dead.value == refused
    assert headers["dlq_reason"] == b"clickhouse refused the row"
    assert headers["dlq_error_code"] == CANNOT_PARSE_DATETIME
    assert b"Cannot read DateTime" in headers["dlq_error_message"]
    assert headers["dlq_partition"] == b"0"
    stored = await stored_ids(settings)
    assert sorted(stored) == sorted([*ids, later_id]), "every good row once, the refused one not"
