"""Envelope -> row: valid envelopes pass unchanged, anything else is a PoisonRecord."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from clickstream import events
from clickstream.envelope import ENVELOPE, Field, Kind
from clickstream.errors import PoisonRecord
from clickstream.etl.transform import to_row

from ..examples import event

RECEIVED_AT = datetime(2024, 10, 3, 14, 30, 1, 654321, tzinfo=UTC)


def envelope(body: dict[str, Any]) -> bytes:
    parsed = events.single_request.validate_json(orjson.dumps({"event": body})).event
    return events.to_record(parsed, event_id=uuid.uuid4(), received_at=RECEIVED_AT).value


def changed(**fields: Any) -> bytes:
    """A valid click envelope with `fields` replaced (or removed when the value is DROP)."""
    document = orjson.loads(envelope(events.EXAMPLES["click"]))
    for name, value in fields.items():
        if value is DROP:
            del document[name]
        else:
            document[name] = value
    return orjson.dumps(document)


DROP = object()


@pytest.mark.parametrize(
    "body",
    [
        *events.EXAMPLES.values(),
        event("video_complete", event_type="film_watched"),
        event("click", user_id=None),
        event("page_view", drop=("referrer_url",)),
    ],
)
def test_valid_envelope_is_the_row_itself_with_its_receipt_time(body: dict[str, Any]) -> None:
    value = envelope(body)

    row, received_at, _ = to_row(value)

    assert row == value
    assert received_at == RECEIVED_AT


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(None, "empty value", id="none"),
        pytest.param(b"", "empty value", id="empty"),
        pytest.param(b"{not json", "value is not JSON", id="not-json"),
        pytest.param(b"\xff\xfe", "value is not JSON", id="not-utf8"),
        pytest.param(b"[1, 2]", "value is not a JSON object", id="json-list"),
        pytest.param(b'"text"', "value is not a JSON object", id="json-string"),
        pytest.param(b"null", "value is not a JSON object", id="json-null"),
        pytest.param(changed(schema_version=3), "unknown schema_version 3", id="schema-version-3"),
        pytest.param(changed(schema_version=0), "unknown schema_version 0", id="schema-version-0"),
        pytest.param(
            changed(schema_version="1"), "unknown schema_version '1'", id="schema-version-text"
        ),
        pytest.param(
            changed(schema_version=DROP), "unknown schema_version None", id="no-schema-version"
        ),
        pytest.param(
            changed(event_type="film_watched"), "unknown event_type", id="film-watched-type"
        ),
        pytest.param(changed(event_type="nope"), "unknown event_type", id="unknown-event-type"),
        pytest.param(changed(event_type=DROP), "unknown event_type", id="no-event-type"),
        pytest.param(changed(event_id=DROP), "event_id missing", id="no-event-id"),
        pytest.param(changed(event_id=5), "event_id missing", id="int-event-id"),
        pytest.param(
            changed(event_id="not-a-uuid"), "event_id is not a canonical UUID", id="bad-event-id"
        ),
        pytest.param(changed(timestamp=DROP), "timestamp missing", id="no-timestamp"),
        pytest.param(changed(timestamp=1727965800), "timestamp missing", id="numeric-timestamp"),
        pytest.param(
            changed(timestamp="yesterday"), "timestamp is not an ISO 8601 time", id="bad-timestamp"
        ),
        pytest.param(changed(received_at=DROP), "received_at missing", id="no-received-at"),
        pytest.param(
            changed(received_at="2024-13-01T00:00:00Z"),
            "received_at is not an ISO 8601 time",
            id="bad-received-at",
        ),
    ],
)
def test_poison_records_are_refused_with_a_reason(value: bytes | None, reason: str) -> None:
    with pytest.raises(PoisonRecord) as error:
        to_row(value)

    assert error.value.reason == reason


@pytest.mark.parametrize("event_type", [["click"], {"click": 1}])
def test_unhashable_event_type_is_poison_not_a_crash(event_type: Any) -> None:
    with pytest.raises(PoisonRecord):
        to_row(changed(event_type=event_type))


def test_received_at_without_a_zone_is_poison_or_made_aware() -> None:
    try:
        _, received_at, _ = to_row(changed(received_at="2024-10-03T14:30:01"))
    except PoisonRecord:
        return
    assert received_at.utcoffset() is not None


@pytest.mark.parametrize("form", ["urn:uuid:{}", "{{{}}}"])
def test_event_id_in_a_form_clickhouse_cannot_read_is_poison(form: str) -> None:
    with pytest.raises(PoisonRecord):
        to_row(changed(event_id=form.format(uuid.uuid4())))


def test_boolean_schema_version_is_poison() -> None:
    with pytest.raises(PoisonRecord):
        to_row(changed(schema_version=True))


CHECKED = [f for f in ENVELOPE.fields if f.kind in (Kind.TIME, Kind.UUID) or f.choices]


@pytest.mark.parametrize("field", CHECKED, ids=lambda f: f.name)
def test_every_field_the_view_parses_is_checked(field: Field) -> None:
    with pytest.raises(PoisonRecord):
        to_row(changed(**{field.name: "not-a-valid-value"}))


@pytest.mark.parametrize(
    "field", [f for f in ENVELOPE.fields if f.required and f in CHECKED], ids=lambda f: f.name
)
def test_every_required_field_the_view_parses_must_be_present(field: Field) -> None:
    with pytest.raises(PoisonRecord):
        to_row(changed(**{field.name: DROP}))


# What the version 1 API wrote: no event_time, the timestamp was the event time.
V1 = orjson.dumps(
    {
        "schema_version": 1,
        "event_id": "0b9b4f5e-6c1a-4c53-9d1e-2f6f7f1f0a11",
        "received_at": "2024-10-03T14:30:01.654321Z",
        "event_type": "click",
        "timestamp": "2024-10-03T14:30:00.000000Z",
        "user_id": None,
        "country": "US",
        "device": "mobile",
        "element": "button_submit",
        "page_url": "https://example.com/submit",
    }
)


def test_version_1_envelopes_still_in_kafka_are_loaded() -> None:
    assert to_row(V1) == (V1, RECEIVED_AT, 202410)


def test_version_2_needs_the_event_time_version_1_does_not_have() -> None:
    with pytest.raises(PoisonRecord) as error:
        to_row(orjson.dumps({**orjson.loads(V1), "schema_version": 2}))

    assert error.value.reason == "event_time missing"


@pytest.mark.parametrize("sent_at", [None, "2024-10-03T14:29:59.000000Z"])
def test_sent_at_may_be_null_or_a_time(sent_at: Any) -> None:
    value = changed(sent_at=sent_at)

    assert to_row(value)[0] == value


@pytest.mark.parametrize("field", ["sent_at", "event_time"])
def test_a_version_2_time_the_view_cannot_parse_is_poison(field: str) -> None:
    with pytest.raises(PoisonRecord) as error:
        to_row(changed(**{field: "soon"}))

    assert error.value.reason == f"{field} is not an ISO 8601 time"
