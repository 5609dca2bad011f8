"""The time policy through the real API, Kafka, ETL and ClickHouse 18.16.

A batch spread over more months than ClickHouse takes in one insert gets a
422 naming the timestamps outside the window, and the pipeline goes on; a
client clock an hour behind is corrected by `sent_at`, its raw timestamp
kept; a retry whose latency differs is still one row.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from clickstream import events
from clickstream.config import Settings
from tests.integration.pipeline import (
    api_client,
    event,
    query,
    read_topic,
    running_etl,
    wait_for_ids,
    wait_until,
)

MONTHS = 150
# "Within seconds": the ETL flushes every 0.3 s here (tests/integration/conftest.py).
VISIBLE_WITHIN_S = 5.0
CLOCK_TOLERANCE = timedelta(seconds=5)


def months_from(now: datetime, offset: int) -> datetime:
    month = now.year * 12 + now.month - 1 + offset
    return datetime(month // 12, month % 12 + 1, 1, 12, tzinfo=UTC)


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(
        path, content=orjson.dumps(body), headers={"content-type": "application/json"}
    )


async def test_a_batch_over_150_months_gets_a_422_naming_the_timestamps_and_nothing_stalls(
    settings: Settings,
) -> None:
    now = datetime.now(UTC)
    # 150 distinct months, 147 back to 2 ahead: most of them outside the window.
    stamps = [months_from(now, offset % MONTHS - MONTHS + 3) for offset in range(500)]
    bodies = [event("click", timestamp=events.utc_text(stamp)) for stamp in stamps]
    policy = settings.api.time_policy
    outside = [
        i
        for i, stamp in enumerate(stamps)
        if not now - timedelta(days=policy.max_past_days)
        <= stamp
        <= now + timedelta(seconds=policy.max_future_s)
    ]
    later = event("click", user_id="u-after-422")

    async with api_client(settings) as client, running_etl(settings):
        refused = await post(client, "/api/v1/events/batch", {"events": bodies})
        sent_at = time.monotonic()
        accepted = await post(client, "/api/v1/events", {"event": later})
        assert accepted.status_code == 200, accepted.text
        await wait_for_ids(settings, {later["event_id"]}, timeout_s=VISIBLE_WITHIN_S)
        visible_after_s = time.monotonic() - sent_at

    assert refused.status_code == 422, refused.text[:300]
    detail = refused.json()["detail"]
    assert len(detail) == min(len(outside), events.MAX_REPORTED_ERRORS)
    for error, index in zip(detail, outside, strict=False):
        assert error["type"] == "timestamp_outside_window"
        assert error["loc"] == ["body", "events", index, "click", "timestamp"]
        assert error["input"] == bodies[index]["timestamp"]
        assert "timestamp" in error["msg"]
    records = await read_topic(settings, settings.kafka.topic, 2, timeout_s=3)
    assert [orjson.loads(r.value)["event_id"] for r in records] == [later["event_id"]], (
        "a refused batch is refused whole"
    )
    assert visible_after_s < VISIBLE_WITHIN_S


async def test_a_clock_an_hour_behind_is_corrected_and_its_raw_timestamp_kept(
    settings: Settings,
) -> None:
    server_now = datetime.now(UTC).replace(microsecond=0)
    behind = server_now - timedelta(hours=1)
    body = event("click", timestamp=events.utc_text(behind))

    async with api_client(settings) as client, running_etl(settings):
        response = await post(
            client, "/api/v1/events", {"event": body, "sent_at": events.utc_text(behind)}
        )
        assert response.status_code == 200, response.text
        await wait_for_ids(settings, {body["event_id"]})

    [(event_time, client_timestamp, sent_at)] = await query(
        settings,
        f"SELECT event_time, client_timestamp, sent_at FROM {settings.clickhouse.database}.events "
        "FINAL",
    )
    assert abs(event_time.replace(tzinfo=UTC) - server_now) <= CLOCK_TOLERANCE
    assert client_timestamp.replace(tzinfo=UTC) == behind
    assert sent_at.replace(tzinfo=UTC) == behind


async def test_a_retry_with_another_latency_is_one_row(settings: Settings) -> None:
    """The same event_id sent twice by a clock an hour behind, the second time slower."""
    first_now = datetime.now(UTC)
    body = event("click", timestamp=events.utc_text(first_now - timedelta(hours=1, seconds=30)))

    async with api_client(settings) as client, running_etl(settings) as etl:
        for latency in (timedelta(milliseconds=100), timedelta(milliseconds=1_500)):
            sent_at = datetime.now(UTC) - timedelta(hours=1) - latency
            response = await post(
                client, "/api/v1/events", {"event": body, "sent_at": events.utc_text(sent_at)}
            )
            assert response.status_code == 200, response.text
        delivered = await read_topic(settings, settings.kafka.topic, 2)

        async def both_inserted() -> bool:
            return bool(etl.metrics.rows_inserted._value.get() >= 2)

        await wait_until(both_inserted, timeout_s=30, what="both deliveries inserted")

    sent = [orjson.loads(record.value) for record in delivered]
    assert [envelope["event_id"] for envelope in sent] == [body["event_id"]] * 2
    assert sent[0]["sent_at"] != sent[1]["sent_at"]
    rows = await query(
        settings,
        f"SELECT toString(event_time) FROM {settings.clickhouse.database}.events FINAL",
    )
    assert len(rows) == 1, f"the retry is a second row: {rows}"
