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
from datetime import UTC, datetime

import orjson

from clickstream.envelope import READABLE_VERSIONS, Envelope, Kind
from clickstream.errors import PoisonRecord

# The canonical form only: ClickHouse's toUUID reads nothing else (no braces,
# no urn:uuid:, no dashless hex), and one unreadable id would fail a batch.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class _Plan:
    """What `to_row` checks in one version's envelope, sorted by kind of check.

    Plain tuples walked inline: this runs once per consumed record, and a
    function call per field cost as much as the checks themselves.
    """

    def __init__(self, envelope: Envelope) -> None:
        # The fields whose bad value would fail the view's whole insert. Any
        # other field the view reads leniently (a wrong type becomes '' or 0).
        self.choices = tuple(
            (f.name, f.required, f.choices) for f in envelope.fields if f.choices is not None
        )
        self.uuids = tuple(
            (f.name, f.required) for f in envelope.fields if f.kind is Kind.UUID and not f.choices
        )
        self.times = tuple(
            (f.name, f.required) for f in envelope.fields if f.kind is Kind.TIME and not f.choices
        )
        # The key the view stores as event_time (the month partition).
        (self.event_time,) = (f.name for f in envelope.fields if f.column == "event_time")


_PLANS = {version: _Plan(envelope) for version, envelope in READABLE_VERSIONS.items()}
_MISSING = "{} missing"


def _utc(moment: datetime) -> datetime:
    # ClickHouse reads a time without a zone as UTC (the server's zone); so do we.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
    if not isinstance(document, dict):
        raise PoisonRecord("value is not a JSON object", "undecodable")
    version = document.get("schema_version")
    # type() rather than isinstance: True == 1 in Python.
    plan = _PLANS.get(version) if type(version) is int else None
    if plan is None:
        raise PoisonRecord(f"unknown schema_version {version!r}", "unknown_schema")
    get = document.get
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
        if not _UUID.fullmatch(found):
            raise PoisonRecord(f"{name} is not a canonical UUID")
    received_at = event_time = None
    for name, required in plan.times:
        found = get(name)
        if found is None and not required:
            continue
        if not isinstance(found, str):
            raise PoisonRecord(_MISSING.format(name))
        try:
            moment = datetime.fromisoformat(found)
        except ValueError:
            raise PoisonRecord(f"{name} is not an ISO 8601 time") from None
        if name == "received_at":
            received_at = moment
        elif name == plan.event_time:
            event_time = moment
    # Both are required in every version, so both were checked above.
    assert received_at is not None and event_time is not None
    if event_time.tzinfo is not UTC:
        event_time = _utc(event_time)
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    return value, received_at, event_time.year * 100 + event_time.month
