"""The ingest API against the real Kafka."""

from __future__ import annotations

import time

import orjson
import pytest

from clickstream.config import Settings
from clickstream.events import EXAMPLES
from clickstream_local.stack import Stack
from tests.integration.pipeline import api_client, event, read_topic


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
async def test_each_example_lands_on_the_topic(settings: Settings, kind: str) -> None:
    async with api_client(settings) as client:
        response = await client.post("/api/v1/events", json={"event": EXAMPLES[kind]})
    assert response.status_code == 200, response.text
    event_id = response.json()["event_id"]
    [record] = await read_topic(settings, settings.kafka.topic, 1)
    envelope = orjson.loads(record.value)
    assert record.key == EXAMPLES[kind]["user_id"].encode()
    assert dict(record.headers)["event_type"] == kind.encode()
    assert dict(record.headers)["schema_version"] == b"2"
    assert envelope["event_id"] == event_id
    assert envelope["schema_version"] == 2
    assert envelope["event_type"] == kind
    assert envelope["timestamp"] == "2024-10-03T14:30:00.000000Z"
    for field, value in EXAMPLES[kind].items():
        if field not in ("timestamp", "event_type"):
            assert envelope[field] == value


async def test_film_watched_is_stored_as_video_complete_and_anonymous_keyed_by_id(
    settings: Settings,
) -> None:
    body = event("video_complete", user_id=None, event_type="film_watched")
    async with api_client(settings) as client:
        response = await client.post("/api/v1/events", json={"event": body})
    assert response.status_code == 200
    [record] = await read_topic(settings, settings.kafka.topic, 1)
    assert record.key == body["event_id"].encode()
    assert orjson.loads(record.value)["event_type"] == "video_complete"


async def test_rejected_input_produces_nothing(settings: Settings) -> None:
    async with api_client(settings) as client:
        bad = await client.post("/api/v1/events", json={"event": {**EXAMPLES["click"], "x": 1}})
        batch = await client.post(
            "/api/v1/events/batch", json={"events": [EXAMPLES["click"], {"event_type": "nope"}]}
        )
        good = await client.post("/api/v1/events", json={"event": EXAMPLES["page_view"]})
    assert (bad.status_code, batch.status_code, good.status_code) == (422, 422, 200)
    assert batch.json()["detail"][0]["loc"][:3] == ["body", "events", 1]
    records = await read_topic(settings, settings.kafka.topic, 2, timeout_s=5)
    assert [orjson.loads(r.value)["event_type"] for r in records] == ["page_view"]


async def test_batch_is_all_on_the_topic(settings: Settings) -> None:
    events = [event(kind, user_id=f"user-{i}") for i, kind in enumerate(sorted(EXAMPLES) * 20)]
    async with api_client(settings) as client:
        response = await client.post("/api/v1/events/batch", json={"events": events})
    assert response.status_code == 200
    assert response.json()["accepted"] == len(events)
    records = await read_topic(settings, settings.kafka.topic, len(events))
    assert sorted(orjson.loads(r.value)["event_id"] for r in records) == sorted(
        e["event_id"] for e in events
    )


async def test_kafka_down_gives_fast_503_and_recovers(settings: Settings, stack: Stack) -> None:
    deadline_s = settings.api.produce_timeout_s
    async with api_client(settings) as client:
        assert (await client.post("/api/v1/events", json={"event": event()})).status_code == 200
        try:
            stack.stop("kafka")
            started = time.monotonic()
            response = await client.post("/api/v1/events", json={"event": event()})
            elapsed = time.monotonic() - started
            assert response.status_code == 503
            assert response.headers["retry-after"] == str(settings.api.retry_after_s)
            assert elapsed <= deadline_s + 1.0
            # Readiness notices within a few probe intervals.
            for _ in range(50):
                if (await client.get("/readyz")).status_code == 503:
                    break
                await _sleep(0.2)
            assert (await client.get("/readyz")).status_code == 503
            assert (await client.get("/healthz")).status_code == 200
            statuses = {
                (await client.post("/api/v1/events", json={"event": event()})).status_code
                for _ in range(5)
            }
            assert statuses == {503}
        finally:
            stack.start("kafka")
        for _ in range(150):
            if (await client.get("/readyz")).status_code == 200:
                break
            await _sleep(0.2)
        response = await client.post("/api/v1/events", json={"event": event()})
        assert response.status_code == 200, response.text


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
