"""Write keys on the ingest routes: off by default; when configured, 401 without a known key."""

from __future__ import annotations

import pytest

from clickstream.config import ApiSettings, Settings
from clickstream.events import EXAMPLES

from .conftest import Serve
from .fake_sink import FakeSink

EVENT = {"event": EXAMPLES["click"]}
KEYED = Settings(api=ApiSettings(write_keys=["site-a", "site-b"]))


async def test_without_configured_keys_no_key_is_needed(serve: Serve) -> None:
    async with serve() as client:
        response = await client.post("/api/v1/events", json=EVENT)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("headers", "path"),
    [
        ({"X-Clickstream-Key": "site-b"}, "/api/v1/events"),
        ({}, "/api/v1/events?key=site-a"),
    ],
    ids=["header", "query (sendBeacon)"],
)
async def test_a_known_key_is_admitted(serve: Serve, headers: dict[str, str], path: str) -> None:
    async with serve(KEYED) as client:
        response = await client.post(path, json=EVENT, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers", [{}, {"X-Clickstream-Key": "site-c"}, {"X-Clickstream-Key": ""}], ids=repr
)
@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/events/batch"])
async def test_no_known_key_is_a_401_and_nothing_is_sent(
    serve: Serve, sink: FakeSink, headers: dict[str, str], path: str
) -> None:
    body = EVENT if path.endswith("events") else {"events": [EXAMPLES["click"]]}
    async with serve(KEYED) as client:
        response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"][0]["loc"] == ["header", "x-clickstream-key"]
    assert not sink.sent
