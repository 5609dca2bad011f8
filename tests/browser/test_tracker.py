"""The tracker (/sdk/clickstream.js) on a page of another origin, in Chromium, against the real stack.

Each test compares the rows of its visit in `clickstream.events` with the
events the page queued: the same ids, each once through FINAL, and as many
rows raw (a duplicate shows there until a merge hides it).
"""

from __future__ import annotations

import asyncio
import gzip
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser.conftest import (
    BATCH_PATH,
    CLOCK_SKEW_MS,
    OpenVisit,
    Stored,
    Visit,
    Warehouse,
    clickhouse_time,
)

USER = "5f0c1f9e-3d5b-4a51-9b8e-1f7c2d9a4e10"
# The API rounds the measured skew to 10 s (skew_quantum_s), so a corrected
# time is off by at most 5 s, plus the network's latency, plus the second the
# columns truncate to.
CORRECTION_TOLERANCE_S = 7.0
SDK_BUDGET_BYTES = 4096

# A few calls that every delivery test makes; the page's clickstream is initialised.
SOME_EVENTS = """() => {
  clickstream.click(document.getElementById('buy'));
  clickstream.searchFilter('genre', 'comedy');
  clickstream.qualityChange('film-42', '720p', '1080p', 61.5);
}"""


def assert_stored_once(stored: Stored, visit: Visit, *, after_503: bool = False) -> None:
    assert stored.ids == sorted(visit.created), "stored ids differ from the ones the page made"
    if after_503:
        # A 503 says "not acknowledged in time", not "not written": the
        # producer may still deliver the first try once Kafka is back, so the
        # retry can be a second raw row. FINAL (checked above) shows it once.
        assert stored.raw_count >= len(visit.created)
    else:
        assert stored.raw_count == len(visit.created), "duplicate rows before merges"


def parse_client_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def local_stack(*args: str) -> None:
    """`clickstream local ARGS`, on the stack these tests found (same CLICKSTREAM_LOCAL__*)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clickstream", "local", *args
    )
    assert await process.wait() == 0, f"clickstream local {' '.join(args)} failed"


# -- the whole API, then the tab closes --------------------------------------------


@pytest.mark.parametrize(
    "signed_in", [True, False], ids=["init-with-user", "anonymous-then-identify"]
)
async def test_every_call_of_a_page_on_another_origin_is_one_row(
    open_visit: OpenVisit, warehouse: Warehouse, signed_in: bool
) -> None:
    started = datetime.now(UTC)
    visit = await open_visit()
    await visit.init(flushIntervalMs=1000, **({"userId": USER} if signed_in else {}))
    await visit.page.evaluate(
        """async ({ signedIn, user }) => {
          clickstream.click(document.getElementById('buy'));
          clickstream.identify(signedIn ? null : user);
          clickstream.searchFilter('genre', 'comedy');
          clickstream.pageView({ pageUrl: location.origin + '/films/42' });
          clickstream.click('play_button');
          clickstream.qualityChange('film-42', '720p', '1080p', 61.5);
          clickstream.videoComplete('film-42', 5400.4);
          const video = document.getElementById('trailer');
          clickstream.trackVideo(video, 'trailer-7');
          await playToTheEnd(video, await recordVideo(1500));
        }""",
        {"signedIn": signed_in, "user": USER},
    )
    anonymous_id = await visit.anonymous_id()
    session_id = await visit.page.evaluate("JSON.parse(localStorage.getItem('cs_session')).id")
    before_closing = set(visit.created)
    await visit.page.close(run_before_unload=True)
    await visit.quiet()
    finished = datetime.now(UTC)

    types = Counter(visit.types())
    assert {name: types[name] for name in ("page_view", "click", "search_filter_use")} == {
        "page_view": 2,
        "click": 2,
        "search_filter_use": 1,
    }
    # The played video adds its own: start, beats, the 120p -> 240p switch, its end.
    assert types["quality_change"] == 2 and types["video_complete"] == 2
    assert types["video_start"] == 1 and types["video_heartbeat"] >= 1
    made_on_leaving = [visit.created[i]["event_type"] for i in set(visit.created) - before_closing]
    assert "page_engagement" in made_on_leaving

    stored = await warehouse.wait_for(anonymous_id, len(visit.created))
    assert_stored_once(stored, visit)
    rows = {row["event_id"]: row for row in stored.rows}
    for event_id, event in visit.created.items():
        row = rows[event_id]
        assert row["event_type"] == event["event_type"]
        assert row["session_id"] == session_id
        assert row["user_id"] == (event["user_id"] or "")
        assert row["page_view_id"] == (event.get("page_view_id") or "")
        assert (row["device_class"], row["os"]) == ("desktop", "Linux")
        # The page's clock is 2 h 17 min slow: client_timestamp keeps what it
        # said, event_time is corrected by sent_at into the server's time.
        client_time = parse_client_time(event["timestamp"])
        event_time, received_at = (
            clickhouse_time(row["event_time"]),
            clickhouse_time(row["received_at"]),
        )
        assert clickhouse_time(row["client_timestamp"]) == client_time.replace(microsecond=0)
        assert client_time < started - timedelta(hours=2)
        slack = timedelta(seconds=CORRECTION_TOLERANCE_S)
        assert started - slack <= event_time <= finished + slack
        assert -slack <= received_at - event_time <= timedelta(seconds=30)
        skew = -CLOCK_SKEW_MS / 1000
        assert abs((event_time - client_time).total_seconds() - skew) <= CORRECTION_TOLERANCE_S
        sent_at = clickhouse_time(row["sent_at"])
        assert abs((received_at - sent_at).total_seconds() - skew) <= CORRECTION_TOLERANCE_S

    assert {row["user_id"] for row in stored.rows} == {USER, ""}
    by_type: dict[str, list[dict[str, Any]]] = {}
    for row in stored.rows:
        by_type.setdefault(row["event_type"], []).append(row)
    [start] = by_type["video_start"]
    assert (start["video_id"], start["quality"]) == ("trailer-7", "120p")
    assert start["playback_id"] != ""
    assert all(beat["playback_id"] == start["playback_id"] for beat in by_type["video_heartbeat"])
    assert sum(beat["played_ms"] for beat in by_type["video_heartbeat"]) > 0
    switches = {(row["from_quality"], row["to_quality"]) for row in by_type["quality_change"]}
    assert switches == {("720p", "1080p"), ("120p", "240p")}


# -- delivery under trouble ---------------------------------------------------------


@pytest.mark.parametrize("closing", ["page.close", "context.close"])
async def test_a_closing_tab_delivers_its_last_events_once(
    open_visit: OpenVisit, warehouse: Warehouse, closing: str
) -> None:
    visit = await open_visit()
    # Nothing leaves before the tab closes: the beacon carries it all.
    await visit.init(flushIntervalMs=600_000)
    await visit.page.evaluate(SOME_EVENTS)
    assert await visit.queued_ids() == set(visit.created)
    anonymous_id = await visit.anonymous_id()

    if closing == "page.close":
        await visit.page.close(run_before_unload=True)
    else:
        await visit.context.close()
    await visit.quiet()

    stored = await warehouse.wait_for(anonymous_id, len(visit.created))
    assert "page_engagement" in visit.types()  # made while closing, and delivered too
    assert_stored_once(stored, visit)
    assert all(batch.status != 200 for batch in visit.batches if batch.resource_type == "fetch")


async def test_offline_then_online_delivers_everything_once(
    open_visit: OpenVisit, warehouse: Warehouse
) -> None:
    visit = await open_visit()
    await visit.init(flushIntervalMs=200)
    await visit.context.set_offline(True)
    before = set(visit.created)
    await visit.page.evaluate(SOME_EVENTS)
    made_offline = set(visit.created) - before
    await visit.until(lambda: any(b.status == 0 for b in visit.batches), "a send failing offline")
    assert made_offline <= await visit.queued_ids()

    await visit.context.set_offline(False)

    stored = await warehouse.wait_for(await visit.anonymous_id(), len(visit.created))
    assert_stored_once(stored, visit)
    assert (await visit.stats())["queued"] == 0


async def test_a_503_phase_is_retried_with_the_same_ids_and_stored_once(
    open_visit: OpenVisit, warehouse: Warehouse, api_url: str
) -> None:
    visit = await open_visit()
    await visit.init(flushIntervalMs=200)
    await visit.until(lambda: any(b.status == 200 for b in visit.batches), "the page view sent")
    before = set(visit.created)
    await local_stack("stop", "kafka-1")
    try:
        await visit.page.evaluate(SOME_EVENTS)
        made_in_outage = set(visit.created) - before
        await visit.until(
            lambda: any(b.status == 503 for b in visit.batches), "a 503 while Kafka is down", 60
        )
        # The page itself must be able to read when to retry (CORS exposes the header).
        probe = await visit.page.evaluate(
            """async ({ url, event }) => {
              const response = await fetch(url, { method: 'POST', body: JSON.stringify({ event }) });
              return { status: response.status, retryAfter: response.headers.get('retry-after') };
            }""",
            {"url": api_url + "/api/v1/events", "event": probe_event()},
        )
        assert probe == {"status": 503, "retryAfter": "1"}
    finally:
        await local_stack("start", "kafka-1")

    stored = await warehouse.wait_for(await visit.anonymous_id(), len(visit.created), 180)
    refused = {i for batch in visit.batches if batch.status == 503 for i in batch.ids}
    accepted = [i for batch in visit.batches if batch.status == 200 for i in batch.ids]
    assert made_in_outage <= refused
    assert sorted(accepted) == sorted(visit.created), "each event accepted exactly once, same ids"
    assert_stored_once(stored, visit, after_503=True)


async def test_a_reload_keeps_the_queue(
    open_visit: OpenVisit, warehouse: Warehouse, api_url: str
) -> None:
    visit = await open_visit()
    await visit.init(flushIntervalMs=200)
    await visit.until(lambda: any(b.status == 200 for b in visit.batches), "the page view sent")
    await visit.context.set_offline(True)
    before = set(visit.created)
    await visit.page.evaluate(SOME_EVENTS)
    made_offline = set(visit.created) - before
    await visit.until(lambda: any(b.status == 0 for b in visit.batches), "a send failing offline")
    # Back online the page must load again, but the API stays unreachable
    # until the reload is done, so only the queue can carry the events over.
    await visit.context.route(
        f"{api_url}/api/**", lambda route: route.abort("internetdisconnected")
    )
    failures = sum(b.status == 0 for b in visit.batches)
    await visit.context.set_offline(False)
    await visit.until(
        lambda: sum(b.status == 0 for b in visit.batches) > failures, "the send on coming online"
    )

    await visit.page.reload()

    assert made_offline <= await visit.queued_ids()
    assert not made_offline & {i for b in visit.batches if b.status == 200 for i in b.ids}
    await visit.context.unroute(f"{api_url}/api/**")
    await visit.init(flushIntervalMs=200, autoPageViews=False)
    stored = await warehouse.wait_for(await visit.anonymous_id(), len(visit.created))
    assert_stored_once(stored, visit)


# -- the bundle and CORS ---------------------------------------------------------------


async def test_the_served_bundle_is_within_4_kib_gzipped(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url) as client:
        async with client.stream(
            "GET", "/sdk/clickstream.js", headers={"accept-encoding": "gzip"}
        ) as response:
            served = b"".join([chunk async for chunk in response.aiter_raw()])
        identity = await client.get("/sdk/clickstream.js", headers={"accept-encoding": "identity"})

    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(served) == identity.content
    print(f"\nserved bundle: {len(identity.content)} bytes, {len(served)} gzipped")
    assert len(served) <= SDK_BUDGET_BYTES
    assert len(gzip.compress(identity.content, 9)) <= SDK_BUDGET_BYTES


async def test_a_preflight_from_another_origin_is_answered(api_url: str, site: str) -> None:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(site))
    async with httpx.AsyncClient(base_url=api_url) as client:
        response = await client.options(
            BATCH_PATH,
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in {"*", origin}
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


def probe_event() -> dict[str, Any]:
    """A valid click of a visitor of its own, sent by hand from the page."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "click",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "user_id": None,
        "country": "GB",
        "device": "desktop",
        "element": "probe",
        "page_url": "https://cinema.example/",
        "anonymous_id": str(uuid.uuid4()),
    }


async def test_a_page_on_another_origin_reads_the_apis_answers(
    open_visit: OpenVisit, warehouse: Warehouse, api_url: str
) -> None:
    visit = await open_visit()
    event = probe_event()
    # application/json makes these "non-simple" requests: each needs the preflight first.
    answers = await visit.page.evaluate(
        """async ({ url, event }) => {
          const post = (events) => fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ events }),
          });
          const accepted = await post([event]);
          const refused = await post([{ event_type: 'click' }]);
          return {
            accepted: [accepted.status, await accepted.json()],
            refused: [refused.status, (await refused.json()).detail[0].loc],
          };
        }""",
        {"url": api_url + BATCH_PATH, "event": event},
    )

    assert answers["accepted"] == [200, {"accepted": 1, "event_ids": [event["event_id"]]}]
    assert answers["refused"] == [422, ["body", "events", 0, "click", "timestamp"]]
    stored = await warehouse.wait_for(event["anonymous_id"], 1)
    assert (stored.ids, stored.raw_count) == ([event["event_id"]], 1)
