"""The time policy through the API: 422s that name the field, the window from the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from clickstream.config import ApiSettings, Settings, TimePolicySettings
from clickstream.events import utc_text

from ..examples import event
from .conftest import Serve
from .fake_sink import FakeSink

SINGLE = "/api/v1/events"
BATCH = "/api/v1/events/batch"


async def post(client: httpx.AsyncClient, path: str, body: Any) -> httpx.Response:
    return await client.post(
        path, content=orjson.dumps(body), headers={"content-type": "application/json"}
    )


async def test_an_event_outside_the_window_is_a_422_naming_its_timestamp(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    response = await post(
        client, SINGLE, {"event": event("click", timestamp="2099-01-01T00:00:00Z")}
    )

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "event", "click", "timestamp"]
    assert sink.sent == []


async def test_a_batch_names_each_event_outside_the_window(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    now = utc_text(datetime.now(UTC))
    body = {"events": [event("click", timestamp=now), event("page_view", timestamp="2001-01-01")]}

    response = await post(client, BATCH, body)

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [
        ["body", "events", 1, "page_view", "timestamp"]
    ]
    assert sink.sent == []


async def test_an_unreadable_sent_at_is_a_422_naming_sent_at(client: httpx.AsyncClient) -> None:
    body = {"event": event("click"), "sent_at": "after lunch"}

    response = await post(client, SINGLE, body)

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "sent_at"]]


async def test_sent_at_corrects_the_stored_event_time(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    now = datetime.now(UTC)
    slow_clock = now - timedelta(hours=5)
    body = {
        "events": [event("click", timestamp=utc_text(slow_clock - timedelta(seconds=30)))],
        "sent_at": utc_text(slow_clock),
    }

    response = await post(client, BATCH, body)

    assert response.status_code == 200
    sent = orjson.loads(sink.records[0].value)
    event_time = datetime.fromisoformat(sent["event_time"])
    assert now - timedelta(seconds=31) <= event_time <= datetime.now(UTC) - timedelta(seconds=29)


async def test_the_window_comes_from_the_settings(serve: Serve, sink: FakeSink) -> None:
    narrow = Settings(api=ApiSettings(time_policy=TimePolicySettings(max_past_days=1)))
    two_days_ago = utc_text(datetime.now(UTC) - timedelta(days=2))

    async with serve(narrow) as client:
        response = await post(client, SINGLE, {"event": event("click", timestamp=two_days_ago)})

    assert response.status_code == 422
