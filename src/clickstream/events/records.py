"""Parsed requests -> Kafka records: the time policy, enrichment and the envelope."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from clickstream.config import TimePolicySettings
from clickstream.envelope import SCHEMA_VERSION
from clickstream.errors import InvalidEvent
from clickstream.events.models import BaseEvent, BatchRequest, EventRequest, VideoComplete
from clickstream.useragent import Client, client_of


# Not frozen: a frozen dataclass sets each field through object.__setattr__,
# which made its construction a sixth of to_record's time (once per event).
@dataclass(slots=True)
class Record:
    """One Kafka record, ready for the producer; not changed after it is made."""

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
    event: BaseEvent,
    *,
    event_id: uuid.UUID | str,
    received_at: datetime | str,
    event_time: datetime | None = None,
    sent_at: str | None = None,
    client: Client | None = None,
) -> Record:
    """Event -> envelope. Ids, times and the client are passed in (no clock here).

    `event_time` is the corrected time (`records_for` computes it; by default
    the event's own timestamp), `sent_at` the request's as envelope text, and
    `client` what its User-Agent header says. The envelope is flat JSON with
    the event's own field names; its key is the user (one user's events stay
    ordered on one partition), else the anonymous visitor, else the event id.
    This runs once per event on the ingest path, hence the plain dict work
    instead of model_dump.
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
    # A field not given is left out rather than written as null: the view and
    # the ETL read both the same way, and most events give few of the fields.
    for name, value in event.__dict__.items():
        if value is not None and name not in _NOT_FIELDS:
            envelope[name] = value
    if client is not None:
        envelope["browser"] = client.browser
        envelope["os"] = client.os
        envelope["device_class"] = client.device_class
        envelope["is_bot"] = client.is_bot
    key = event.user_id or event.anonymous_id or event_id
    return Record(
        key=key.encode(),
        value=orjson.dumps(envelope),
        headers=[("event_type", event_type.encode()), ("schema_version", _VERSION_HEADER)],
        event_id=event_id,
        event_type=event_type,
    )


MAX_REPORTED_ERRORS = 50


def records_for(
    request: EventRequest | BatchRequest,
    *,
    received_at: datetime,
    user_agent: str | None,
    time_policy: TimePolicySettings,
) -> list[Record]:
    """A parsed request -> its Kafka records, all or none (`InvalidEvent`, a 422).

    `user_agent` is the request's User-Agent header: every event of the
    request is enriched with what it says (`clickstream.useragent`).

    The time policy: with `sent_at`, each event's time is corrected by the
    client's clock error, `timestamp + (received_at - sent_at)`; the result
    must lie within the policy's window around `received_at`, so no client
    clock (or `sent_at`) can put events decades away or into future partitions.
    """
    single = isinstance(request, EventRequest)
    items = [request.event] if isinstance(request, EventRequest) else request.events
    offset = None if request.sent_at is None else _skew(received_at - request.sent_at, time_policy)
    # Both times lie in [2000, 2100), so the sum cannot overflow datetime.
    if offset is None:
        times = [event.timestamp for event in items]
    else:
        times = [event.timestamp + offset for event in items]
    earliest = received_at - timedelta(days=time_policy.max_past_days)
    latest = received_at + timedelta(seconds=time_policy.max_future_s)
    # min and max first: the per-event search runs only for a request to refuse.
    if min(times) < earliest or max(times) > latest:
        outside = [
            (["body", "event"] if single else ["body", "events", index], event, time_)
            for index, (event, time_) in enumerate(zip(items, times, strict=True))
            if not earliest <= time_ <= latest
        ]
        raise InvalidEvent(
            [
                _outside_window(where, event, time_, earliest, latest)
                for where, event, time_ in outside[:MAX_REPORTED_ERRORS]
            ]
        )
    received = utc_text(received_at)
    sent = None if request.sent_at is None else utc_text(request.sent_at)
    client = client_of(user_agent)
    try:
        return [
            to_record(
                event,
                event_id=event_id_of(event),
                received_at=received,
                event_time=None if offset is None else time_,
                sent_at=sent,
                client=client,
            )
            for event, time_ in zip(items, times, strict=True)
        ]
    except orjson.JSONEncodeError:
        # Text orjson cannot write (a lone surrogate) should the parser ever let one through.
        raise InvalidEvent(
            [{"type": "string_unicode", "loc": ["body"], "msg": "strings must be valid Unicode"}]
        ) from None


def _skew(measured: timedelta, policy: TimePolicySettings) -> timedelta | None:
    """The client clock's error, stable across retries (see `skew_quantum_s`); None if none."""
    quantum = policy.skew_quantum_s
    seconds = measured.total_seconds()
    if abs(seconds) < quantum:
        return None
    return timedelta(seconds=round(seconds / quantum) * quantum)


def _outside_window(
    where: list[Any], event: BaseEvent, event_time: datetime, earliest: datetime, latest: datetime
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


def event_id_of(event: BaseEvent) -> str:
    """The client's id when it sent one (its retries collapse), else a new one."""
    return str(event.event_id) if event.event_id is not None else new_event_id()
