"""The ingest API end to end in-process: contract, envelope, errors, health, metrics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from clickstream.config import ApiSettings, Settings
from clickstream.errors import Unavailable
from clickstream.events import EXAMPLES, SCHEMA_VERSION

from ..examples import event
from .conftest import Serve
from .fake_sink import FakeSink

SINGLE = "/api/v1/events"
BATCH = "/api/v1/events/batch"
JSON = {"content-type": "application/json"}


async def post(client: httpx.AsyncClient, path: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return await client.post(path, content=content, headers=JSON)


def envelope_of(sink: FakeSink, index: int = 0) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(sink.records[index].value)
    return parsed


# -- accepted events -------------------------------------------------------------


@pytest.mark.parametrize("kind", list(EXAMPLES))
async def test_each_contract_example_is_accepted_and_sent(
    client: httpx.AsyncClient, sink: FakeSink, kind: str
) -> None:
    response = await post(client, SINGLE, {"event": EXAMPLES[kind]})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert set(answer) == {"status", "event_id"}
    assert answer["status"] == "accepted"
    assert len(sink.sent) == 1
    (record,) = sink.sent[0]
    assert str(record.event_id) == answer["event_id"]
    assert record.event_type == kind
    sent = envelope_of(sink)
    for field, value in EXAMPLES[kind].items():
        if field != "timestamp":
            assert sent[field] == value


async def test_film_watched_is_accepted_and_stored_as_video_complete(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    response = await post(
        client, SINGLE, {"event": event("video_complete", event_type="film_watched")}
    )

    assert response.status_code == 200
    (record,) = sink.records
    assert record.event_type == "video_complete"
    assert ("event_type", b"video_complete") in record.headers
    assert envelope_of(sink)["event_type"] == "video_complete"
    assert envelope_of(sink)["duration"] == EXAMPLES["video_complete"]["duration"]


async def test_client_event_id_is_kept(client: httpx.AsyncClient, sink: FakeSink) -> None:
    event_id = uuid.uuid4()

    response = await post(client, SINGLE, {"event": event("click", event_id=str(event_id))})

    assert response.json() == {"status": "accepted", "event_id": str(event_id)}
    assert sink.records[0].event_id == str(event_id)
    assert envelope_of(sink)["event_id"] == str(event_id)


async def test_without_event_id_each_event_gets_a_new_uuid(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    first = await post(client, SINGLE, {"event": EXAMPLES["click"]})
    second = await post(client, SINGLE, {"event": EXAMPLES["click"]})

    ids = [uuid.UUID(first.json()["event_id"]), uuid.UUID(second.json()["event_id"])]
    assert ids[0] != ids[1]
    assert all(event_id.version == 4 for event_id in ids)
    assert [uuid.UUID(record.event_id) for record in sink.records] == ids


@pytest.mark.parametrize(
    ("user_id", "key_is_user"),
    [("956939f6-7a98-4bf1-9949-500e5dd20fa0", True), ("user-42", True), (None, False)],
)
async def test_record_key_is_the_user_or_for_anonymous_events_the_event_id(
    client: httpx.AsyncClient, sink: FakeSink, user_id: str | None, key_is_user: bool
) -> None:
    response = await post(client, SINGLE, {"event": event("page_view", user_id=user_id)})

    assert response.status_code == 200
    expected = user_id if key_is_user else response.json()["event_id"]
    assert expected is not None
    assert sink.records[0].key == expected.encode()
    assert envelope_of(sink).get("user_id") == user_id


async def test_record_headers_carry_event_type_and_schema_version(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    await post(client, SINGLE, {"event": EXAMPLES["search_filter_use"]})

    assert sink.records[0].headers == [
        ("event_type", b"search_filter_use"),
        ("schema_version", str(SCHEMA_VERSION).encode()),
    ]


async def test_envelope_has_version_id_receipt_time_and_the_event_fields(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    before = datetime.now(UTC)
    response = await post(client, SINGLE, {"event": EXAMPLES["quality_change"]})
    after = datetime.now(UTC)

    sent = envelope_of(sink)
    received_at = datetime.strptime(sent.pop("received_at"), "%Y-%m-%dT%H:%M:%S.%fZ")
    assert before <= received_at.replace(tzinfo=UTC) <= after
    assert sent == {
        "schema_version": 2,
        "event_id": response.json()["event_id"],
        "event_type": "quality_change",
        "timestamp": "2024-10-03T14:30:00.000000Z",
        "event_time": "2024-10-03T14:30:00.000000Z",
        "user_id": "956939f6-7a98-4bf1-9949-500e5dd20fa0",
        "country": "US",
        "device": "mobile",
        "video_id": "8bcb67fe-bde6-4645-af85-6664a9298b8c",
        "from_quality": "240p",
        "to_quality": "720p",
        "current_time": 3600,
        # httpx's own User-Agent: no browser, OS or device ua-parser knows.
        "browser": "",
        "os": "",
        "device_class": "other",
        "is_bot": False,
    }


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2024-10-03T14:30:00", "2024-10-03T14:30:00.000000Z"),
        ("2024-10-03T14:30:00Z", "2024-10-03T14:30:00.000000Z"),
        ("2024-10-03T14:30:00+00:00", "2024-10-03T14:30:00.000000Z"),
        ("2024-10-03T17:30:00+03:00", "2024-10-03T14:30:00.000000Z"),
        ("2024-10-03T01:00:00.25+03:00", "2024-10-02T22:00:00.250000Z"),
        ("2024-10-03T09:30:00-05:00", "2024-10-03T14:30:00.000000Z"),
    ],
)
async def test_timestamps_are_stored_in_utc(
    client: httpx.AsyncClient, sink: FakeSink, sent: str, stored: str
) -> None:
    response = await post(client, SINGLE, {"event": event("click", timestamp=sent)})

    assert response.status_code == 200
    assert envelope_of(sink)["timestamp"] == stored


# -- rejected events -------------------------------------------------------------

CLICK = ["body", "event", "click"]
QUALITY = ["body", "event", "quality_change"]
VIDEO = ["body", "event", "video_complete"]

INVALID_BODIES = [
    # (body, loc of the error, pydantic error type)
    pytest.param(
        {"event": event("click", event_type="nope")},
        ["body", "event"],
        "union_tag_invalid",
        id="unknown-event-type",
    ),
    pytest.param(
        {"event": event("click", drop=("event_type",))},
        ["body", "event"],
        "union_tag_not_found",
        id="missing-event-type",
    ),
    pytest.param(
        {"event": event("click", event_type=None)},
        ["body", "event"],
        "union_tag_invalid",
        id="null-event-type",
    ),
    pytest.param(
        {"event": event("click", event_type=1)},
        ["body", "event"],
        "union_tag_invalid",
        id="int-event-type",
    ),
    pytest.param({}, ["body", "event"], "missing", id="missing-event"),
    pytest.param({"event": None}, ["body", "event"], "dict_type", id="null-event"),
    pytest.param(
        {"event": [EXAMPLES["click"]]}, ["body", "event"], "dict_type", id="event-is-a-list"
    ),
    pytest.param(
        {"event": event("click", drop=("timestamp",))},
        [*CLICK, "timestamp"],
        "missing",
        id="missing-timestamp",
    ),
    pytest.param(
        {"event": event("click", timestamp=None)},
        [*CLICK, "timestamp"],
        "datetime_type",
        id="null-timestamp",
    ),
    pytest.param(
        {"event": event("click", drop=("user_id",))},
        [*CLICK, "user_id"],
        "missing",
        id="missing-user-id",
    ),
    pytest.param(
        {"event": event("click", drop=("country",))},
        [*CLICK, "country"],
        "missing",
        id="missing-country",
    ),
    pytest.param(
        {"event": event("click", country=None)},
        [*CLICK, "country"],
        "string_type",
        id="null-country",
    ),
    pytest.param(
        {"event": event("click", drop=("device",))},
        [*CLICK, "device"],
        "missing",
        id="missing-device",
    ),
    pytest.param(
        {"event": event("click", drop=("element",))},
        [*CLICK, "element"],
        "missing",
        id="missing-element",
    ),
    pytest.param(
        {"event": event("page_view", drop=("page_url",))},
        ["body", "event", "page_view", "page_url"],
        "missing",
        id="missing-page-url",
    ),
    pytest.param(
        {"event": event("search_filter_use", filter_value=None)},
        ["body", "event", "search_filter_use", "filter_value"],
        "string_type",
        id="null-filter-value",
    ),
    pytest.param(
        {"event": event("video_complete", drop=("video_id",))},
        [*VIDEO, "video_id"],
        "missing",
        id="missing-video-id",
    ),
    pytest.param(
        {"event": event("video_complete", event_type="film_watched", drop=("duration",))},
        ["body", "event", "film_watched", "duration"],
        "missing",
        id="film-watched-missing-duration",
    ),
    pytest.param(
        {"event": event("quality_change", drop=("current_time",))},
        [*QUALITY, "current_time"],
        "missing",
        id="missing-current-time",
    ),
    pytest.param(
        {"event": event("quality_change", current_time="3600")},
        [*QUALITY, "current_time"],
        "int_type",
        id="string-as-int",
    ),
    pytest.param(
        {"event": event("video_complete", duration=True)},
        [*VIDEO, "duration"],
        "int_type",
        id="bool-as-int",
    ),
    pytest.param(
        {"event": event("video_complete", duration=3660.5)},
        [*VIDEO, "duration"],
        "int_type",
        id="float-as-int",
    ),
    pytest.param(
        {"event": event("quality_change", current_time=-1)},
        [*QUALITY, "current_time"],
        "greater_than_equal",
        id="negative-current-time",
    ),
    pytest.param(
        {"event": event("video_complete", duration=-5)},
        [*VIDEO, "duration"],
        "greater_than_equal",
        id="negative-duration",
    ),
    pytest.param(
        {"event": event("video_complete", duration=10_000_001)},
        [*VIDEO, "duration"],
        "less_than_equal",
        id="huge-duration",
    ),
    pytest.param(
        {"event": event("click", country=5)}, [*CLICK, "country"], "string_type", id="int-as-string"
    ),
    pytest.param(
        {"event": event("click", user_id=42)}, [*CLICK, "user_id"], "string_type", id="int-user-id"
    ),
    pytest.param(
        {"event": event("quality_change", from_quality=["240p"])},
        [*QUALITY, "from_quality"],
        "string_type",
        id="list-as-string",
    ),
    pytest.param(
        {"event": event("click", element="")},
        [*CLICK, "element"],
        "string_too_short",
        id="empty-element",
    ),
    pytest.param(
        {"event": event("click", country="")},
        [*CLICK, "country"],
        "string_too_short",
        id="empty-country",
    ),
    pytest.param(
        {"event": event("click", user_id="")},
        [*CLICK, "user_id"],
        "string_too_short",
        id="empty-user-id",
    ),
    pytest.param(
        {"event": event("page_view", referrer_url="")},
        ["body", "event", "page_view", "referrer_url"],
        "string_too_short",
        id="empty-referrer",
    ),
    pytest.param(
        {"event": event("click", element="e" * 513)},
        [*CLICK, "element"],
        "string_too_long",
        id="long-element",
    ),
    pytest.param(
        {"event": event("click", device="d" * 129)},
        [*CLICK, "device"],
        "string_too_long",
        id="long-device",
    ),
    pytest.param(
        {"event": event("click", page_url="u" * 8193)},
        [*CLICK, "page_url"],
        "string_too_long",
        id="long-url",
    ),
    pytest.param(
        {"event": event("click", extra=1)},
        [*CLICK, "extra"],
        "extra_forbidden",
        id="extra-field-in-event",
    ),
    pytest.param(
        {"event": event("click", video_id="v")},
        [*CLICK, "video_id"],
        "extra_forbidden",
        id="field-of-another-type",
    ),
    pytest.param(
        {"event": EXAMPLES["click"], "extra": 1},
        ["body", "extra"],
        "extra_forbidden",
        id="extra-field-top-level",
    ),
    pytest.param(
        {"events": [EXAMPLES["click"]]},
        ["body", "events"],
        "extra_forbidden",
        id="batch-body-on-single",
    ),
    pytest.param(
        {"event": event("click", timestamp="1999-12-31T23:59:59Z")},
        [*CLICK, "timestamp"],
        "value_error",
        id="timestamp-before-2000",
    ),
    pytest.param(
        {"event": event("click", timestamp="2000-01-01T02:00:00+03:00")},
        [*CLICK, "timestamp"],
        "value_error",
        id="timestamp-before-2000-in-utc",
    ),
    pytest.param(
        {"event": event("click", timestamp="2100-01-01T00:00:00Z")},
        [*CLICK, "timestamp"],
        "value_error",
        id="timestamp-2100",
    ),
    pytest.param(
        {"event": event("click", timestamp="yesterday")},
        [*CLICK, "timestamp"],
        "datetime_parsing",
        id="timestamp-not-a-time",
    ),
    pytest.param(
        {"event": event("click", timestamp="2024-10-03")},
        [*CLICK, "timestamp"],
        "datetime_parsing",
        id="timestamp-date-only",
    ),
    pytest.param(
        {"event": event("click", timestamp=1727965800)},
        [*CLICK, "timestamp"],
        "datetime_type",
        id="timestamp-as-number",
    ),
    pytest.param(
        {"event": event("click", event_id="not-a-uuid")},
        [*CLICK, "event_id"],
        "uuid_parsing",
        id="invalid-event-id",
    ),
    pytest.param(
        {"event": event("click", event_id=123)},
        [*CLICK, "event_id"],
        "uuid_type",
        id="int-event-id",
    ),
    pytest.param(b'{"event": ', ["body"], "json_invalid", id="malformed-json"),
    pytest.param(
        orjson.dumps({"event": EXAMPLES["click"]}) + b" trailing",
        ["body"],
        "json_invalid",
        id="trailing-garbage",
    ),
    pytest.param(b"", ["body"], "json_invalid", id="empty-body"),
    pytest.param(b"\xff\xfe{}", ["body"], "json_invalid", id="not-utf8"),
    pytest.param([{"event": EXAMPLES["click"]}], ["body"], "model_type", id="body-is-a-list"),
    pytest.param("click", ["body"], "model_type", id="body-is-a-string"),
    pytest.param(5, ["body"], "model_type", id="body-is-a-number"),
    pytest.param(None, ["body"], "model_type", id="body-is-null"),
]


@pytest.mark.parametrize(("body", "loc", "error_type"), INVALID_BODIES)
async def test_invalid_body_is_rejected_with_the_offending_field(
    client: httpx.AsyncClient, sink: FakeSink, body: Any, loc: list[Any], error_type: str
) -> None:
    response = await post(client, SINGLE, body)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert detail, "at least one error"
    for item in detail:
        assert item["loc"][0] == "body"
        assert isinstance(item["msg"], str)
        assert item["msg"]
        assert isinstance(item["type"], str)
    assert {"loc": loc, "type": error_type} in [
        {"loc": item["loc"], "type": item["type"]} for item in detail
    ]
    assert sink.sent == []


@pytest.mark.parametrize("timestamp", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
async def test_timestamp_beyond_the_datetime_range_is_rejected_not_a_server_error(
    client: httpx.AsyncClient, sink: FakeSink, timestamp: str
) -> None:
    response = await post(client, SINGLE, {"event": event("click", timestamp=timestamp)})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == [*CLICK, "timestamp"]
    assert sink.sent == []


async def test_rejected_input_is_echoed_only_when_short(client: httpx.AsyncClient) -> None:
    short = await post(client, SINGLE, {"event": event("quality_change", current_time="3600")})
    long = await post(client, SINGLE, {"event": event("click", element="e" * 1000)})

    assert short.json()["detail"][0]["input"] == "3600"
    assert "input" not in long.json()["detail"][0]
    assert long.json()["detail"][0]["ctx"] == {"max_length": "512"}


async def test_hostile_body_gets_a_bounded_error_list(client: httpx.AsyncClient) -> None:
    batch = {"events": [event("click", country=5, device=6) for _ in range(100)]}

    response = await post(client, BATCH, batch)

    assert response.status_code == 422
    assert len(response.json()["detail"]) == 50


# -- batch ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 5, 500])
async def test_batch_of_1_to_500_is_accepted_in_order(
    client: httpx.AsyncClient, sink: FakeSink, size: int
) -> None:
    kinds = list(EXAMPLES)
    ids = [str(uuid.uuid4()) for _ in range(size)]
    items = [event(kinds[i % len(kinds)], event_id=ids[i]) for i in range(size)]

    response = await post(client, BATCH, {"events": items})

    assert response.status_code == 200
    assert response.json() == {"accepted": size, "event_ids": ids}
    assert len(sink.sent) == 1, "one batch is one send: all or nothing"
    assert [str(record.event_id) for record in sink.sent[0]] == ids
    assert [record.event_type for record in sink.sent[0]] == [item["event_type"] for item in items]


async def test_batch_assigns_ids_to_events_without_one(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    client_id = str(uuid.uuid4())
    items = [EXAMPLES["click"], event("page_view", event_id=client_id), EXAMPLES["page_view"]]

    response = await post(client, BATCH, {"events": items})

    event_ids = response.json()["event_ids"]
    assert event_ids[1] == client_id
    assert len(set(event_ids)) == 3
    assert [str(record.event_id) for record in sink.records] == event_ids


@pytest.mark.parametrize(("size", "error_type"), [(0, "too_short"), (501, "too_long")])
async def test_batch_outside_1_to_500_is_rejected(
    client: httpx.AsyncClient, sink: FakeSink, size: int, error_type: str
) -> None:
    response = await post(client, BATCH, {"events": [EXAMPLES["click"]] * size})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "events"]
    assert error["type"] == error_type
    assert sink.sent == []


@pytest.mark.parametrize("bad_index", [0, 3, 6])
async def test_one_invalid_item_rejects_the_whole_batch_naming_its_index(
    client: httpx.AsyncClient, sink: FakeSink, bad_index: int
) -> None:
    items = [EXAMPLES["click"]] * 7
    items[bad_index] = event("quality_change", current_time=-1)

    response = await post(client, BATCH, {"events": items})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "events", bad_index, "quality_change", "current_time"]
    assert sink.sent == []


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        pytest.param(
            {"events": EXAMPLES["click"]}, ["body", "events"], "list_type", id="not-a-list"
        ),
        pytest.param({"events": None}, ["body", "events"], "list_type", id="null"),
        pytest.param({}, ["body", "events"], "missing", id="missing"),
        pytest.param(
            {"event": EXAMPLES["click"]}, ["body", "event"], "extra_forbidden", id="single-body"
        ),
        pytest.param(
            {"events": [EXAMPLES["click"], "x"]},
            ["body", "events", 1],
            "dict_type",
            id="item-not-an-object",
        ),
    ],
)
async def test_batch_body_of_wrong_shape_is_rejected(
    client: httpx.AsyncClient, sink: FakeSink, body: Any, loc: list[Any], error_type: str
) -> None:
    response = await post(client, BATCH, body)

    assert response.status_code == 422
    assert {"loc": loc, "type": error_type} in [
        {"loc": item["loc"], "type": item["type"]} for item in response.json()["detail"]
    ]
    assert sink.sent == []


# -- Kafka unavailable, health ------------------------------------------------------


@pytest.mark.parametrize("path", [SINGLE, BATCH])
async def test_sink_unavailable_gives_503_with_retry_after(
    serve: Serve, sink: FakeSink, path: str
) -> None:
    sink.failure = Unavailable("kafka is unavailable")
    body = {"event": EXAMPLES["click"]} if path == SINGLE else {"events": [EXAMPLES["click"]]}

    async with serve(Settings(api=ApiSettings(retry_after_s=7))) as client:
        response = await post(client, path, body)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"detail": "kafka is unavailable"}


@pytest.mark.parametrize(("ready", "status"), [(True, 200), (False, 503)])
async def test_readyz_follows_the_sink(
    client: httpx.AsyncClient, sink: FakeSink, ready: bool, status: int
) -> None:
    sink.ready = ready

    response = await client.get("/readyz")

    assert response.status_code == status


async def test_readyz_changes_as_the_sink_does(client: httpx.AsyncClient, sink: FakeSink) -> None:
    sink.ready = False
    assert (await client.get("/readyz")).status_code == 503
    sink.ready = True
    assert (await client.get("/readyz")).status_code == 200


async def test_healthz_is_ok_even_when_kafka_is_not(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    sink.ready = False

    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# -- metrics -------------------------------------------------------------------


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def sample(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


async def test_metrics_count_requests_and_accepted_events(client: httpx.AsyncClient) -> None:
    requests_ok = sample("clickstream_api_requests_total", route=SINGLE, status="200")
    accepted_clicks = sample("clickstream_api_events_accepted_total", event_type="click")
    accepted_videos = sample("clickstream_api_events_accepted_total", event_type="video_complete")
    before = await scrape(client)

    await post(client, SINGLE, {"event": EXAMPLES["click"]})
    await post(
        client,
        BATCH,
        {"events": [EXAMPLES["click"], event("video_complete", event_type="film_watched")]},
    )
    after = await scrape(client)

    assert after[requests_ok] - before.get(requests_ok, 0.0) == 1
    assert after[accepted_clicks] - before.get(accepted_clicks, 0.0) == 2
    assert after[accepted_videos] - before.get(accepted_videos, 0.0) == 1
    assert sample("clickstream_api_produce_seconds_count") in after  # observed per Kafka flush


async def test_metrics_count_rejections_unavailability_and_unknown_routes(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    await post(client, SINGLE, {"event": None})
    await client.get("/no-such-page")
    sink.failure = Unavailable("down")
    await post(client, SINGLE, {"event": EXAMPLES["click"]})

    after = await scrape(client)

    assert after[sample("clickstream_api_requests_total", route=SINGLE, status="422")] == 1
    assert after[sample("clickstream_api_requests_total", route=SINGLE, status="503")] == 1
    assert after[sample("clickstream_api_requests_total", route="unmatched", status="404")] == 1
    assert after[sample("clickstream_api_events_rejected_total", status="422")] == 1
    assert after[sample("clickstream_api_unavailable_total")] == 1
    assert (
        after.get(sample("clickstream_api_events_accepted_total", event_type="click"), 0.0) == 0.0
    )


# -- CORS ----------------------------------------------------------------------


async def test_cors_preflight_is_answered_for_configured_origins(serve: Serve) -> None:
    origin = "https://cinema.example"
    settings = Settings(api=ApiSettings(cors_allow_origins=[origin]))
    preflight = {"origin": origin, "access-control-request-method": "POST"}

    async with serve(settings) as client:
        allowed = await client.options(SINGLE, headers=preflight)
        other = await client.options(
            SINGLE, headers={**preflight, "origin": "https://evil.example"}
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in other.headers


async def test_cors_exposes_retry_after_to_the_tracker(serve: Serve) -> None:
    origin = "https://cinema.example"
    settings = Settings(api=ApiSettings(cors_allow_origins=[origin]))

    async with serve(settings) as client:
        response = await client.post(SINGLE, content=b"{}", headers={"origin": origin})

    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-expose-headers"] == "Retry-After"


async def test_without_cors_settings_no_cors_headers_are_sent(client: httpx.AsyncClient) -> None:
    response = await client.post(
        SINGLE,
        content=orjson.dumps({"event": EXAMPLES["click"]}),
        headers={"origin": "https://a.example"},
    )

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


# -- OpenAPI ---------------------------------------------------------------------


async def test_openapi_documents_the_five_examples_and_the_request_models(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    body = schema["paths"][SINGLE]["post"]["requestBody"]
    for media in ("application/json", "text/plain"):
        content = body["content"][media]
        assert content["schema"] == {"$ref": "#/components/schemas/EventRequest"}
        assert {name: e["value"] for name, e in content["examples"].items()} == {
            name: {"event": example} for name, example in EXAMPLES.items()
        }
    batch = schema["paths"][BATCH]["post"]["requestBody"]["content"]["application/json"]
    assert batch["schema"] == {"$ref": "#/components/schemas/BatchRequest"}
    components = schema["components"]["schemas"]
    assert components["EventRequest"]["required"] == ["event"]
    assert components["BatchRequest"]["properties"]["events"]["minItems"] == 1
    assert components["BatchRequest"]["properties"]["events"]["maxItems"] == 500


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(value) for value in node))
    return set()


async def test_openapi_refs_resolve_and_examples_match_their_schema(
    client: httpx.AsyncClient,
) -> None:
    import jsonschema  # type: ignore[import-untyped]

    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]

    prefix = "#/components/schemas/"
    assert {ref.removeprefix(prefix) for ref in refs(schema)} <= set(components)
    for path, model in ((SINGLE, "EventRequest"), (BATCH, "BatchRequest")):
        validator = jsonschema.Draft202012Validator(
            {"$ref": prefix + model, "components": schema["components"]}
        )
        examples = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        for example in examples["examples"].values():
            validator.validate(example["value"])
        with pytest.raises(jsonschema.ValidationError):
            validator.validate({"unexpected": True})


async def test_a_whole_number_written_as_a_float_is_that_integer(
    client: httpx.AsyncClient, sink: FakeSink
) -> None:
    # JSON has one number type; JSON Schema's "integer" admits 3660.0, so we do too.
    response = await post(client, SINGLE, {"event": event("video_complete", duration=3660.0)})

    assert response.status_code == 200
    assert envelope_of(sink)["duration"] == 3660
