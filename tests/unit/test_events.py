"""The wire contract: parsing events and turning them into Kafka records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from clickstream import events
from clickstream.config import TimePolicySettings
from clickstream.events import EXAMPLES
from clickstream.useragent import Client

from .examples import event

EVENT_ID = uuid.UUID("0b9b4f5e-6c1a-4c53-9d1e-2f6f7f1f0a11")
RECEIVED_AT = datetime(2024, 10, 3, 14, 30, 1, 123456, tzinfo=UTC)
MODELS = {
    "click": events.Click,
    "page_view": events.PageView,
    "search_filter_use": events.SearchFilterUse,
    "quality_change": events.QualityChange,
    "video_complete": events.VideoComplete,
    "page_engagement": events.PageEngagement,
    "video_start": events.VideoStart,
    "video_heartbeat": events.VideoHeartbeat,
}


def parse(body: dict[str, Any]) -> Any:
    return events.single_request.validate_json(orjson.dumps({"event": body})).event


def record(body: dict[str, Any]) -> events.Record:
    return events.to_record(parse(body), event_id=EVENT_ID, received_at=RECEIVED_AT)


def test_examples_cover_every_event_type() -> None:
    assert list(EXAMPLES) == list(events.EVENT_TYPES)
    assert [body["event_type"] for body in EXAMPLES.values()] == list(events.EVENT_TYPES)


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_each_example_parses_into_its_model(kind: str) -> None:
    parsed = parse(EXAMPLES[kind])

    assert type(parsed) is MODELS[kind]
    assert parsed.timestamp == datetime(2024, 10, 3, 14, 30, tzinfo=UTC)
    assert parsed.event_id is None


def test_film_watched_parses_as_video_complete() -> None:
    parsed = parse(event("video_complete", event_type="film_watched"))

    assert type(parsed) is events.VideoComplete


@pytest.mark.parametrize(
    ("sent", "utc"),
    [
        ("2024-10-03T14:30:00", datetime(2024, 10, 3, 14, 30, tzinfo=UTC)),
        ("2024-10-03T17:30:00+03:00", datetime(2024, 10, 3, 14, 30, tzinfo=UTC)),
        ("2024-10-03T00:30:00+03:00", datetime(2024, 10, 2, 21, 30, tzinfo=UTC)),
        ("2000-01-01T00:00:00Z", datetime(2000, 1, 1, tzinfo=UTC)),
        ("2099-12-31T23:59:59.999999Z", datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_timestamps_become_utc(sent: str, utc: datetime) -> None:
    parsed = parse(event("click", timestamp=sent))

    assert parsed.timestamp == utc
    assert parsed.timestamp.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "sent", ["1999-12-31T23:59:59.999999Z", "2100-01-01T00:00:00Z", "2100-01-01T02:00:00+01:00"]
)
def test_timestamps_outside_2000_to_2100_are_refused(sent: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse(event("click", timestamp=sent))

    assert error.value.errors()[0]["loc"] == ("event", "click", "timestamp")


@pytest.mark.parametrize("sent", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_timestamps_beyond_the_datetime_range_are_a_validation_error(sent: str) -> None:
    with pytest.raises(ValidationError):
        parse(event("click", timestamp=sent))


def test_envelope_is_flat_versioned_json_of_the_event() -> None:
    got = record(EXAMPLES["click"])

    assert orjson.loads(got.value) == {
        "schema_version": 2,
        "event_id": str(EVENT_ID),
        "received_at": "2024-10-03T14:30:01.123456Z",
        "event_type": "click",
        "timestamp": "2024-10-03T14:30:00.000000Z",
        "event_time": "2024-10-03T14:30:00.000000Z",
        "user_id": "956939f6-7a98-4bf1-9949-500e5dd20fa0",
        "country": "US",
        "device": "mobile",
        "element": "button_submit",
        "page_url": "https://example.com/submit",
    }
    assert got.event_id == str(EVENT_ID)
    assert got.event_type == "click"
    assert got.key == b"956939f6-7a98-4bf1-9949-500e5dd20fa0"
    assert got.headers == [("event_type", b"click"), ("schema_version", b"2")]


def test_envelope_drops_the_client_event_id_field_for_the_one_passed_in() -> None:
    client_id = uuid.uuid4()

    got = orjson.loads(record(event("click", event_id=str(client_id))).value)

    assert got["event_id"] == str(EVENT_ID)
    assert list(got).count("event_id") == 1


def test_a_field_not_given_is_left_out_of_the_envelope() -> None:
    got = orjson.loads(record(event("page_view", drop=("referrer_url",))).value)

    assert "referrer_url" not in got
    assert None not in got.values()


def test_film_watched_is_stored_as_video_complete() -> None:
    got = record(event("video_complete", event_type="film_watched"))

    assert got.event_type == "video_complete"
    assert orjson.loads(got.value)["event_type"] == "video_complete"
    assert ("event_type", b"video_complete") in got.headers


def test_anonymous_events_are_keyed_by_event_id() -> None:
    got = record(event("click", user_id=None))

    assert got.key == str(EVENT_ID).encode()
    assert "user_id" not in orjson.loads(got.value)


def test_the_same_event_gives_byte_identical_records() -> None:
    assert record(EXAMPLES["quality_change"]) == record(EXAMPLES["quality_change"])


def test_non_ascii_text_survives_the_envelope() -> None:
    got = orjson.loads(record(event("search_filter_use", filter_value="Звёздные войны ✨")).value)

    assert got["filter_value"] == "Звёздные войны ✨"


def test_event_id_of_keeps_the_clients_id() -> None:
    client_id = uuid.uuid4()

    assert events.event_id_of(parse(event("click", event_id=str(client_id)))) == str(client_id)


def test_event_id_of_assigns_a_new_random_id_otherwise() -> None:
    parsed = parse(EXAMPLES["click"])

    first, second = events.event_id_of(parsed), events.event_id_of(parsed)

    assert first != second
    assert uuid.UUID(first).version == 4
    assert str(uuid.UUID(first)) == first


def test_received_at_in_another_zone_is_written_as_utc() -> None:
    moscow = RECEIVED_AT.astimezone(timezone(timedelta(hours=3)))

    got = events.to_record(parse(EXAMPLES["click"]), event_id=EVENT_ID, received_at=moscow)

    assert orjson.loads(got.value)["received_at"] == "2024-10-03T14:30:01.123456Z"


def test_parsed_events_are_immutable() -> None:
    parsed = parse(EXAMPLES["click"])

    with pytest.raises(ValidationError):
        parsed.country = "DE"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_type": "click", "element": "x"}, "timestamp"),
        (event("click", element="x" * 513), "element"),
        (event("video_complete", duration="10"), "duration"),
    ],
)
def test_validation_errors_name_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse(body)

    assert field in [item["loc"][-1] for item in error.value.errors()]


def test_new_event_ids_are_canonical_random_uuids() -> None:
    ids = [events.new_event_id() for _ in range(2_000)]

    assert len(set(ids)) == len(ids)
    parsed = [uuid.UUID(i) for i in ids]
    assert all(p.version == 4 and p.variant == uuid.RFC_4122 for p in parsed)
    assert [str(p) for p in parsed] == ids


# -- identity, sessions, the new types, enrichment -------------------------------


@pytest.mark.parametrize("kind", list(EXAMPLES))
@pytest.mark.parametrize("field", ["anonymous_id", "session_id", "page_view_id"])
def test_identity_fields_are_optional_on_every_type_and_kept(kind: str, field: str) -> None:
    changes: dict[str, Any] = {field: "id-1"}

    got = orjson.loads(record(event(kind, **changes)).value)

    assert got[field] == "id-1"


@pytest.mark.parametrize("field", ["anonymous_id", "session_id", "page_view_id"])
@pytest.mark.parametrize("value", ["", "x" * 129, 5])
def test_identity_fields_are_1_to_128_characters(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as error:
        parse(event("click", **{field: value}))

    assert error.value.errors()[0]["loc"] == ("event", "click", field)


@pytest.mark.parametrize(
    ("kind", "changes", "field"),
    [
        ("page_engagement", {"drop": ("page_view_id",)}, "page_view_id"),
        ("page_engagement", {"page_view_id": None}, "page_view_id"),
        ("page_engagement", {"drop": ("page_url",)}, "page_url"),
        ("page_engagement", {"engaged_ms": -1}, "engaged_ms"),
        ("page_engagement", {"engaged_ms": 86_400_001}, "engaged_ms"),
        ("page_engagement", {"engaged_ms": "100"}, "engaged_ms"),
        ("page_engagement", {"engaged_ms": 1.5}, "engaged_ms"),
        ("page_engagement", {"max_scroll_pct": 101}, "max_scroll_pct"),
        ("page_engagement", {"max_scroll_pct": -1}, "max_scroll_pct"),
        ("video_start", {"drop": ("playback_id",)}, "playback_id"),
        ("video_start", {"playback_id": "x" * 129}, "playback_id"),
        ("video_start", {"drop": ("video_id",)}, "video_id"),
        ("video_start", {"position_s": -0.5}, "position_s"),
        ("video_start", {"position_s": "12"}, "position_s"),
        ("video_start", {"duration_s": -1}, "duration_s"),
        ("video_start", {"quality": ""}, "quality"),
        ("video_start", {"played_ms": 10_000}, "played_ms"),
        ("video_heartbeat", {"drop": ("played_ms",)}, "played_ms"),
        ("video_heartbeat", {"played_ms": 3_600_001}, "played_ms"),
        ("video_heartbeat", {"position_s": True}, "position_s"),
    ],
)
def test_new_types_are_as_strict_as_the_old(kind: str, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse(event(kind, **changes))

    assert field in [item["loc"][-1] for item in error.value.errors()]


@pytest.mark.parametrize(
    ("kind", "changes"),
    [
        ("video_start", {"drop": ("quality", "duration_s")}),
        ("video_heartbeat", {"position_s": 0, "played_ms": 0, "duration_s": 5400.25}),
        ("page_engagement", {"engaged_ms": 86_400_000.0, "max_scroll_pct": 100}),
    ],
)
def test_new_types_accept_their_optional_and_edge_values(
    kind: str, changes: dict[str, Any]
) -> None:
    assert type(parse(event(kind, **changes))) is MODELS[kind]


def test_a_video_heartbeat_envelope_carries_its_playback_fields() -> None:
    got = orjson.loads(record(EXAMPLES["video_heartbeat"]).value)

    assert {k: got[k] for k in ("playback_id", "position_s", "played_ms", "duration_s")} == {
        "playback_id": "pb-4f2a91",
        "position_s": 612.5,
        "played_ms": 10_000,
        "duration_s": 3660,
    }


def test_anonymous_events_with_a_visitor_id_are_keyed_by_it() -> None:
    got = record(event("click", user_id=None, anonymous_id="visitor-7"))

    assert got.key == b"visitor-7"


def test_a_client_id_on_a_new_type_is_kept_so_retries_collapse() -> None:
    client_id = str(uuid.uuid4())

    assert events.event_id_of(parse(event("video_heartbeat", event_id=client_id))) == client_id


def test_the_client_the_user_agent_describes_goes_into_every_envelope() -> None:
    client = Client("Chrome", "Windows", "desktop", False)

    got = orjson.loads(
        events.to_record(
            parse(EXAMPLES["page_view"]), event_id=EVENT_ID, received_at=RECEIVED_AT, client=client
        ).value
    )

    assert {k: got[k] for k in ("browser", "os", "device_class", "is_bot")} == {
        "browser": "Chrome",
        "os": "Windows",
        "device_class": "desktop",
        "is_bot": False,
    }


def test_records_for_enriches_from_the_user_agent_header() -> None:
    request = events.batch_request.validate_json(
        orjson.dumps({"events": [EXAMPLES["click"], EXAMPLES["video_start"]]})
    )
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

    records = events.records_for(
        request,
        received_at=datetime(2026, 12, 1, tzinfo=UTC),
        user_agent=bot,
        time_policy=TimePolicySettings(),
    )

    sent = [orjson.loads(r.value) for r in records]
    assert [(e["device_class"], e["is_bot"]) for e in sent] == [("bot", True), ("bot", True)]
