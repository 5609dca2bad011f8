"""Envelope v2 through the real pipeline: the corrected time, the new fields, version 1 still loads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
from aiokafka import AIOKafkaProducer

from clickstream.config import Settings
from clickstream.events import utc_text
from tests.integration.pipeline import api_client, event, query, running_etl, wait_for_ids

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


async def test_new_types_land_with_the_corrected_time_and_the_client(settings: Settings) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    slow = now - timedelta(hours=3)  # the client's clock is three hours behind
    bodies = [
        event("page_engagement", timestamp=utc_text(slow), anonymous_id="anon-1"),
        event("video_start", timestamp=utc_text(slow)),
        event("video_heartbeat", timestamp=utc_text(slow), duration_s=5400.75),
    ]
    async with api_client(settings) as client, running_etl(settings):
        response = await client.post(
            "/api/v1/events/batch",
            content=orjson.dumps({"events": bodies, "sent_at": utc_text(slow)}),
            headers={"content-type": "application/json", "user-agent": IPHONE},
        )
        assert response.status_code == 200, response.text
        await wait_for_ids(settings, {body["event_id"] for body in bodies})
    db = settings.clickhouse.database
    rows = await query(
        settings,
        "SELECT event_type, event_time, client_timestamp, sent_at, received_at, anonymous_id, "
        "session_id, page_view_id, engaged_ms, max_scroll_pct, playback_id, position_s, quality, "
        "played_ms, duration_s, browser, os, device_class, is_bot, schema_version "
        f"FROM {db}.events FINAL",
    )
    by_type = {row[0]: row for row in rows}
    assert set(by_type) == {"page_engagement", "video_start", "video_heartbeat"}
    for row in rows:
        event_time, client_timestamp, sent_at, received_at = (
            t.replace(tzinfo=UTC) for t in row[1:5]
        )
        assert client_timestamp == sent_at == slow
        assert abs(event_time - received_at) <= timedelta(seconds=1)
        assert row[15:] == ("Mobile Safari", "iOS", "mobile", 0, 2)
    assert by_type["page_engagement"][5:10] == (
        "anon-1",
        "s-2024-10-03-0001",
        "pv-7d1e9c",
        48_250,
        85,
    )
    assert by_type["video_start"][10:15] == ("pb-4f2a91", 0.0, "720p", 0, 3660)
    assert by_type["video_heartbeat"][10:15] == ("pb-4f2a91", 612.5, "720p", 10_000, 5400)


async def test_a_version_1_envelope_still_in_kafka_loads_as_before(settings: Settings) -> None:
    event_id = str(uuid.uuid4())
    v1 = {
        "schema_version": 1,
        "event_id": event_id,
        "received_at": "2024-10-03T14:30:01.000000Z",
        "event_type": "click",
        "timestamp": "2024-10-03T14:30:00.000000Z",
        "user_id": "u-1",
        "country": "US",
        "device": "mobile",
        "element": "button_submit",
        "page_url": "https://example.com/submit",
    }
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(settings.kafka.topic, orjson.dumps(v1), key=b"u-1")
    finally:
        await producer.stop()
    async with running_etl(settings):
        await wait_for_ids(settings, {event_id})
    db = settings.clickhouse.database
    rows = await query(
        settings,
        "SELECT toString(event_time), toString(client_timestamp), toUInt32(sent_at), "
        f"browser, is_bot, schema_version FROM {db}.events FINAL",
    )
    assert rows == [("2024-10-03 14:30:00", "2024-10-03 14:30:00", 0, "", 0, 1)]
