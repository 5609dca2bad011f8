"""Envelope -> row, a pure function.

The row is the envelope itself, checked: ClickHouse's materialized view
(`clickhouse/sql/0005_events_ingest_mv.sql`) spreads it into columns, far
faster than Python could. What the view cannot survive is refused here, so one
bad record never fails a whole batch: it becomes a `PoisonRecord` and goes to
the dead-letter topic.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import orjson

from clickstream.errors import PoisonRecord
from clickstream.events import EVENT_TYPES, SCHEMA_VERSION

_KNOWN_TYPES = frozenset(EVENT_TYPES)


def _timestamp(document: dict[str, object], field: str) -> datetime:
    value = document.get(field)
    if not isinstance(value, str):
        raise PoisonRecord(f"{field} missing")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise PoisonRecord(f"{field} is not an ISO 8601 time") from None


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
    if document.get("schema_version") != SCHEMA_VERSION:
        version = document.get("schema_version")
        raise PoisonRecord(f"unknown schema_version {version!r}", "unknown_schema")
    if document.get("event_type") not in _KNOWN_TYPES:
        raise PoisonRecord("unknown event_type")
    event_id = document.get("event_id")
    if not isinstance(event_id, str):
        raise PoisonRecord("event_id missing")
    try:
        uuid.UUID(event_id)
    except ValueError:
        raise PoisonRecord("event_id is not a UUID") from None
    _timestamp(document, "timestamp")
    return value, _timestamp(document, "received_at")
