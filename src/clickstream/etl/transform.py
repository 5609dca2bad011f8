"""Envelope -> row, a pure function.

The row is the envelope itself, checked: ClickHouse's materialized view
(`clickhouse/sql/0005_events_ingest_mv.sql`) spreads it into columns, far
faster than Python could. What the view cannot survive is refused here, so one
bad record never fails a whole batch: it becomes a `PoisonRecord` and goes to
the dead-letter topic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson

from clickstream.errors import PoisonRecord
from clickstream.events import EVENT_TYPES, SCHEMA_VERSION

_KNOWN_TYPES = frozenset(EVENT_TYPES)
# The canonical form only: ClickHouse's toUUID reads nothing else (no braces,
# no urn:uuid:, no dashless hex), and one unreadable id would fail a batch.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _timestamp(document: dict[str, object], field: str) -> datetime:
    value = document.get(field)
    if not isinstance(value, str):
        raise PoisonRecord(f"{field} missing")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PoisonRecord(f"{field} is not an ISO 8601 time") from None
    # ClickHouse reads a time without a zone as UTC (the server's zone); so do we.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


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
    if type(version) is not int or version != SCHEMA_VERSION:  # True == 1 in Python
        raise PoisonRecord(f"unknown schema_version {version!r}", "unknown_schema")
    event_type = document.get("event_type")
    if not isinstance(event_type, str) or event_type not in _KNOWN_TYPES:
        raise PoisonRecord("unknown event_type")
    event_id = document.get("event_id")
    if not isinstance(event_id, str):
        raise PoisonRecord("event_id missing")
    if not _UUID.fullmatch(event_id):
        raise PoisonRecord("event_id is not a canonical UUID")
    _timestamp(document, "timestamp")
    return value, _timestamp(document, "received_at")
