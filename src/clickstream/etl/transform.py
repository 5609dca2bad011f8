"""Envelope -> row, a pure function.

The row is the envelope itself, checked: ClickHouse's materialized view
(the latest `clickhouse/sql/*_events_ingest_mv*.sql`) spreads it into columns,
far faster than Python could. What the view cannot survive is refused here, so
one bad record never fails a whole batch: it becomes a `PoisonRecord` and goes
to the dead-letter topic. Which fields are checked, and how, follows the
declared envelope (`clickstream.envelope`) of the record's schema version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from clickstream.envelope import READABLE_VERSIONS, Envelope, Kind
from clickstream.errors import PoisonRecord

# The canonical form only: ClickHouse's toUUID reads nothing else (no braces,
# no urn:uuid:, no dashless hex), and one unreadable id would fail a batch.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class _Plan:
    """What `to_row` checks in one version's envelope.

    The four fields every version has and every record carries (the event's
    type, id, receipt and stored time) are checked in straight-line code; the
    rest, sorted by kind of check, in loops that are empty for version 1. This
    runs once per consumed record: a loop over a one-item tuple, or a function
    call per field, cost as much as the checks themselves.
    """

    __slots__ = ("choices", "event_time", "event_types", "times", "uuids")

    def __init__(self, envelope: Envelope) -> None:
        event_type, event_id = envelope.field("event_type"), envelope.field("event_id")
        received_at = envelope.field("received_at")
        (stored,) = (f for f in envelope.fields if f.column == "event_time")
        assert all(f.required for f in (event_type, event_id, received_at, stored))
        assert event_type.choices and event_id.kind is Kind.UUID
        assert received_at.kind is Kind.TIME and stored.kind is Kind.TIME
        self.event_types = event_type.choices
        # The key the view stores as event_time (the month partition).
        self.event_time = stored.name
        # Any other field whose bad value would fail the view's whole insert.
        # Every other field the view reads leniently (a wrong type becomes '' or 0).
        rest = [f for f in envelope.fields if f not in (event_type, event_id, received_at, stored)]
        self.choices = tuple((f.name, f.required, f.choices) for f in rest if f.choices is not None)
        self.uuids = tuple(
            (f.name, f.required) for f in rest if f.kind is Kind.UUID and not f.choices
        )
        self.times = tuple(
            (f.name, f.required) for f in rest if f.kind is Kind.TIME and not f.choices
        )


_PLANS = {version: _Plan(envelope) for version, envelope in READABLE_VERSIONS.items()}
_canonical_uuid = _UUID.fullmatch
# Given any JSON value on the hot path: a non-str raises TypeError.
_parse_time: Callable[[Any], datetime] = datetime.fromisoformat
_MISSING = "{} missing"


def _utc(moment: datetime) -> datetime:
    # ClickHouse reads a time without a zone as UTC (the server's zone); so do we.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _time(name: str, found: object) -> datetime:
    if not isinstance(found, str):
        raise PoisonRecord(_MISSING.format(name))
    try:
        return _parse_time(found)
    except ValueError:
        raise PoisonRecord(f"{name} is not an ISO 8601 time") from None


def to_row(value: bytes | None) -> tuple[bytes, datetime, int]:
    """The row to insert, the envelope's `received_at` (for freshness) and its month.

    The month (YYYYMM, UTC, of the time stored as event_time) is the row's
    partition, so a batch can be cut into blocks of few partitions without
    reading the rows again.
    """
    if not value:
        raise PoisonRecord("empty value", "undecodable")
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise PoisonRecord("value is not JSON", "undecodable") from None
    # type() rather than isinstance: orjson makes plain dicts and strs, and
    # the exact check is the cheaper one.
    if type(document) is not dict:
        raise PoisonRecord("value is not a JSON object", "undecodable")
    get = document.get
    version = get("schema_version")
    # type() here also because True == 1 in Python.
    plan = _PLANS.get(version) if type(version) is int else None
    if plan is None:
        raise PoisonRecord(f"unknown schema_version {version!r}", "unknown_schema")
    found = get("event_type")
    if type(found) is not str or found not in plan.event_types:
        raise PoisonRecord("unknown event_type")
    found = get("event_id")
    if type(found) is not str:
        raise PoisonRecord(_MISSING.format("event_id"))
    if not _canonical_uuid(found):
        raise PoisonRecord("event_id is not a canonical UUID")
    # On either error `_time` raises, with the reason.
    found = get("received_at")
    try:
        received_at = _parse_time(found)
    except (TypeError, ValueError):
        received_at = _time("received_at", found)
    found = get(plan.event_time)
    try:
        event_time = _parse_time(found)
    except (TypeError, ValueError):
        event_time = _time(plan.event_time, found)
    for name, required, choices in plan.choices:
        found = get(name)
        if (found is not None or required) and (not isinstance(found, str) or found not in choices):
            raise PoisonRecord(f"unknown {name}")
    for name, required in plan.uuids:
        found = get(name)
        if found is None and not required:
            continue
        if not isinstance(found, str):
            raise PoisonRecord(_MISSING.format(name))
        if not _canonical_uuid(found):
            raise PoisonRecord(f"{name} is not a canonical UUID")
    for name, required in plan.times:
        found = get(name)
        if found is not None or required:
            _time(name, found)
    if event_time.tzinfo is not UTC:
        event_time = _utc(event_time)
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    return value, received_at, event_time.year * 100 + event_time.month
