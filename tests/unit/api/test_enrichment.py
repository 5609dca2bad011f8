"""The API enriches events from the User-Agent header, and from nothing else."""

from __future__ import annotations

import httpx
import orjson

from clickstream.events import EXAMPLES

from .fake_sink import FakeSink

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


async def test_the_user_agent_header_becomes_browser_os_device_class_and_bot(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    headers = {"content-type": "application/json", "user-agent": IPHONE}
    body = orjson.dumps({"events": [EXAMPLES["page_view"], EXAMPLES["video_heartbeat"]]})

    response = await client.post("/api/v1/events/batch", content=body, headers=headers)

    assert response.status_code == 200
    for record in sink.records:
        sent = orjson.loads(record.value)
        assert (sent["browser"], sent["os"], sent["device_class"], sent["is_bot"]) == (
            "Mobile Safari",
            "iOS",
            "mobile",
            False,
        )


async def test_no_address_reaches_the_envelope(client: httpx.AsyncClient, sink: FakeSink) -> None:
    headers = {
        "content-type": "application/json",
        "user-agent": IPHONE,
        "x-forwarded-for": "203.0.113.7",
        "x-real-ip": "203.0.113.7",
    }
    body = orjson.dumps({"event": EXAMPLES["click"]})

    response = await client.post("/api/v1/events", content=body, headers=headers)

    assert response.status_code == 200
    assert b"203.0.113.7" not in sink.records[0].value
    assert b"127.0.0.1" not in sink.records[0].value
