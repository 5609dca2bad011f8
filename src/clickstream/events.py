"""The wire contract: HTTP event models -> Kafka envelope (versioned).

Three shapes, three names: `Event` is what the frontend POSTs, the envelope
is what goes to Kafka (the event plus `event_id`, `received_at` and
`schema_version`; its fields are declared in `clickstream.envelope`), and the
ClickHouse row is made from the envelope by the materialized view in
`clickhouse/sql/`.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
)

# Re-exported: the API and its tests read them here, beside the models.
from clickstream.config import TimePolicySettings
from clickstream.envelope import EVENT_TYPES as EVENT_TYPES
from clickstream.envelope import SCHEMA_VERSION as SCHEMA_VERSION
from clickstream.errors import Rejected

# Bounds: generous for real frontends, small enough that one event stays a
# few KiB (browsers cap URLs near 2 KiB in practice; 8 KiB covers the rest).
Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=8192)]


def _whole_number(value: Any) -> Any:
    """JSON has one number type: 3600.0 is the integer 3600 (as JSON Schema says)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Seconds = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=10_000_000)]

_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _as_utc(value: datetime) -> datetime:
    """Timestamps without a zone are taken as UTC; all are stored in UTC."""
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is past datetime.max in UTC
        raise ValueError("timestamp must be between 2000-01-01 and 2100-01-01") from None
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("timestamp must be between 2000-01-01 and 2100-01-01")
    return value


Timestamp = Annotated[datetime, AfterValidator(_as_utc)]


class _Event(BaseModel):
    # strict: "3600" is not an int and 1 is not a string; extra keys are errors.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    event_id: Annotated[
        uuid.UUID | None,
        Field(description="Your id for this event: a retry with the same id is stored once."),
    ] = None
    timestamp: Annotated[
        Timestamp,
        Field(
            description="When it happened, by the client's clock: RFC 3339; without a zone it "
            "is taken as UTC. Must lie in [2000-01-01, 2100-01-01), and, after the correction "
            "by the request's `sent_at`, within the accepted window around the server's "
            "receipt time (default: 1095 days back, 1 day ahead); it is stored unchanged too."
        ),
    ]
    user_id: Name | None
    country: Name
    device: Name


class Click(_Event):
    event_type: Literal["click"]
    element: Text
    page_url: Url


class PageView(_Event):
    event_type: Literal["page_view"]
    page_url: Url
    referrer_url: Url | None = None


class SearchFilterUse(_Event):
    event_type: Literal["search_filter_use"]
    filter_type: Name
    filter_value: Text


class QualityChange(_Event):
    event_type: Literal["quality_change"]
    video_id: Name
    from_quality: Name
    to_quality: Name
    current_time: Seconds


class VideoComplete(_Event):
    # The original requirements name this event both ways; it is stored as
    # video_complete.
    event_type: Literal["video_complete", "film_watched"]
    video_id: Name
    duration: Seconds


Event = Annotated[
    Click | PageView | SearchFilterUse | QualityChange | VideoComplete,
    Field(discriminator="event_type"),
]

_EXAMPLE_COMMON: dict[str, Any] = {
    "timestamp": "2024-10-03T14:30:00Z",
    "user_id": "956939f6-7a98-4bf1-9949-500e5dd20fa0",
    "country": "US",
    "device": "mobile",
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "click": {
        "event_type": "click",
        **_EXAMPLE_COMMON,
        "element": "button_submit",
        "page_url": "https://example.com/submit",
    },
    "page_view": {
        "event_type": "page_view",
        **_EXAMPLE_COMMON,
        "page_url": "https://example.com/submit",
        "referrer_url": "https://example.com/redirect",
    },
    "search_filter_use": {
        "event_type": "search_filter_use",
        **_EXAMPLE_COMMON,
        "filter_type": "title",
        "filter_value": "the star",
    },
    "quality_change": {
        "event_type": "quality_change",
        **_EXAMPLE_COMMON,
        "video_id": "8bcb67fe-bde6-4645-af85-6664a9298b8c",
        "from_quality": "240p",
        "to_quality": "720p",
        "current_time": 3600,
    },
    "video_complete": {
        "event_type": "video_complete",
        **_EXAMPLE_COMMON,
        "video_id": "8bcb67fe-bde6-4645-af85-6664a9298b8c",
        "duration": 3660,
    },
}


_SENT_AT = Field(
    description="When the client sent this request, by its own clock (RFC 3339; without a zone "
    "UTC). With it, each event is stored at `timestamp + (received_at - sent_at)`: a client "
    "clock that is off by hours still gives the right time, as long as `timestamp` was read "
    "from the same clock. The corrected time must lie between `max_past_days` (default 1095) "
    "before and `max_future_s` (default 86400) after the server's receipt time, else 422."
)


class EventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    event: Event
    sent_at: Annotated[Timestamp | None, _SENT_AT] = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    events: Annotated[list[Event], Field(min_length=1, max_length=500)]
    sent_at: Annotated[Timestamp | None, _SENT_AT] = None


single_request = TypeAdapter(EventRequest)
batch_request = TypeAdapter(BatchRequest)


class EventAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    event_id: uuid.UUID


class BatchAccepted(BaseModel):
    accepted: int
    event_ids: list[uuid.UUID]


# -- the Kafka envelope ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One Kafka record, ready for the producer."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    event_id: str
    event_type: str


def utc_text(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a Z, as the envelope carries times."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat is several times faster than strftime: "...+00:00" -> "...Z".
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


_NOT_FIELDS = frozenset({"event_id", "timestamp", "event_type"})


def to_record(
    event: _Event,
    *,
    event_id: uuid.UUID | str,
    received_at: datetime | str,
    event_time: datetime | None = None,
    sent_at: str | None = None,
) -> Record:
    """Event -> envelope. Ids and times are passed in (no clock here).

    `event_time` is the corrected time (`records_for` computes it; by default
    the event's own timestamp) and `sent_at` the request's, as envelope text.
    The envelope is flat JSON with the event's own field names; its key is the
    user (one user's events stay ordered on one partition) or, for anonymous
    events, the event id. This runs once per event on the ingest path, hence
    the plain dict work instead of model_dump.
    """
    event_id = str(event_id)
    event_type = "video_complete" if isinstance(event, VideoComplete) else event.event_type  # type: ignore[attr-defined]
    timestamp = utc_text(event.timestamp)
    envelope = {
        "schema_version": SCHEMA_VERSION,
        "event_id": event_id,
        "received_at": received_at if isinstance(received_at, str) else utc_text(received_at),
        "event_type": event_type,
        "timestamp": timestamp,
        "event_time": timestamp if event_time is None else utc_text(event_time),
    }
    if sent_at is not None:
        envelope["sent_at"] = sent_at
    for name, value in event.__dict__.items():
        if name not in _NOT_FIELDS:
            envelope[name] = value
    key = event.user_id if event.user_id is not None else event_id
    return Record(
        key=key.encode(),
        value=orjson.dumps(envelope),
        headers=[("event_type", event_type.encode()), ("schema_version", _VERSION_HEADER)],
        event_id=event_id,
        event_type=event_type,
    )


MAX_REPORTED_ERRORS = 50


def records_for(
    request: EventRequest | BatchRequest, *, received_at: datetime, time_policy: TimePolicySettings
) -> list[Record]:
    """A parsed request -> its Kafka records, all or none (`Rejected` with a 422 detail).

    The time policy: with `sent_at`, each event's time is corrected by the
    client's clock error, `timestamp + (received_at - sent_at)`; the result
    must lie within the policy's window around `received_at`, so no client
    clock (or `sent_at`) can put events decades away or into future partitions.
    """
    single = isinstance(request, EventRequest)
    items = [request.event] if isinstance(request, EventRequest) else request.events
    offset = None if request.sent_at is None else received_at - request.sent_at
    earliest = received_at - timedelta(days=time_policy.max_past_days)
    latest = received_at + timedelta(seconds=time_policy.max_future_s)
    received = utc_text(received_at)
    sent = None if request.sent_at is None else utc_text(request.sent_at)
    records: list[Record] = []
    errors: list[dict[str, Any]] = []
    for index, event in enumerate(items):
        # Both times lie in [2000, 2100), so this sum cannot overflow datetime.
        event_time = event.timestamp if offset is None else event.timestamp + offset
        if not earliest <= event_time <= latest:
            if len(errors) < MAX_REPORTED_ERRORS:
                where: list[Any] = ["body", "event"] if single else ["body", "events", index]
                errors.append(_outside_window(where, event, event_time, earliest, latest))
            continue
        if not errors:
            try:
                records.append(
                    to_record(
                        event,
                        event_id=event_id_of(event),
                        received_at=received,
                        event_time=event_time,
                        sent_at=sent,
                    )
                )
            except orjson.JSONEncodeError:
                # A lone surrogate (\ud800) passes JSON parsing but is not Unicode text.
                raise Rejected(
                    422,
                    [
                        {
                            "type": "string_unicode",
                            "loc": ["body"],
                            "msg": "strings must be valid Unicode",
                        }
                    ],
                ) from None
    if errors:
        raise Rejected(422, errors)
    return records


def _outside_window(
    where: list[Any], event: _Event, event_time: datetime, earliest: datetime, latest: datetime
) -> dict[str, Any]:
    corrected = (
        "" if event_time == event.timestamp else f" (corrected by sent_at: {utc_text(event_time)})"
    )
    return {
        "type": "timestamp_outside_window",
        # The same loc as the model's own errors on this field: the event
        # type tag, then the field.
        "loc": [*where, event.event_type, "timestamp"],  # type: ignore[attr-defined]
        "msg": f"timestamp{corrected} must lie between {utc_text(earliest)} and "
        f"{utc_text(latest)}, the accepted window around the time the server received it",
        "input": utc_text(event.timestamp),
        "ctx": {"earliest": utc_text(earliest), "latest": utc_text(latest)},
    }


_VERSION_HEADER = b"%d" % SCHEMA_VERSION


def new_event_id() -> str:
    """A random (version 4) UUID as text, without building a uuid.UUID."""
    digits = os.urandom(16).hex()
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def event_id_of(event: _Event) -> str:
    """The client's id when it sent one (its retries collapse), else a new one."""
    return str(event.event_id) if event.event_id is not None else new_event_id()
