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

import orjson

from clickstream.envelope import READABLE_VERSIONS, Envelope, Field, Kind
from clickstream.errors import PoisonRecord

# The canonical form only: ClickHouse's toUUID reads nothing else (no braces,
# no urn:uuid:, no dashless hex), and one unreadable id would fail a batch.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _time(field: Field, value: object) -> None:
    if not isinstance(value, str):
        raise PoisonRecord(f"{field.name} missing")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise PoisonRecord(f"{field.name} is not an ISO 8601 time") from None


def _uuid(field: Field, value: object) -> None:
    if not isinstance(value, str):
        raise PoisonRecord(f"{field.name} missing")
    if not _UUID.fullmatch(value):
        raise PoisonRecord(f"{field.name} is not a canonical UUID")


def _choice(field: Field, value: object) -> None:
    if not isinstance(value, str) or value not in (field.choices or ()):
        raise PoisonRecord(f"unknown {field.name}")


Check = Callable[[Field, object], None]


def _checks(envelope: Envelope) -> tuple[tuple[Field, Check], ...]:
    """The fields whose bad value would fail the view's whole insert, with their check.

    Any other field the view reads leniently (a wrong type becomes '' or 0),
    so it is not checked here, keeping this per-record loop short.
    """
    checks: list[tuple[Field, Check]] = []
    for field in envelope.fields:
        if field.choices is not None:
            checks.append((field, _choice))
        elif field.kind is Kind.TIME:
            checks.append((field, _time))
        elif field.kind is Kind.UUID:
            checks.append((field, _uuid))
    return tuple(checks)


_CHECKS = {version: _checks(envelope) for version, envelope in READABLE_VERSIONS.items()}


def to_row(value: bytes | None) -> tuple[bytes, datetime]:
    """The row to insert and the envelope's `received_at` (for freshness)."""
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
    checks = _CHECKS.get(version) if type(version) is int else None
    if checks is None:
        raise PoisonRecord(f"unknown schema_version {version!r}", "unknown_schema")
    for field, check in checks:
        found = document.get(field.name)
        if found is not None or field.required:
            check(field, found)
    # Checked above: every version requires it.
    received_at = datetime.fromisoformat(document["received_at"])
    # ClickHouse reads a time without a zone as UTC (the server's zone); so do we.
    return value, received_at.replace(tzinfo=UTC) if received_at.tzinfo is None else received_at
