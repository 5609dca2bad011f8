"""The Kafka envelope: the one declaration of what the API writes and the ETL reads.

An envelope is one flat JSON object per event. `ENVELOPE` lists its fields:
the JSON key, the kind of value, the ClickHouse column it is stored in, and
whether every envelope carries it. The API's `events.to_record` writes these
keys and no others, the ETL's `transform.to_row` checks them, and the
materialized view in `clickhouse/sql/` reads them; unit tests hold all three
to this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    """What a field holds, as far as the view that reads it is concerned."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    # Canonical UUID text: ClickHouse's toUUID reads nothing else.
    UUID = "uuid"
    # ISO 8601 text; the envelope always writes UTC with a Z.
    TIME = "time"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Kind
    column: str
    # Every envelope carries it; otherwise absent or null means "not given".
    required: bool = False
    # The allowed values, for a field the view stores as a closed set.
    choices: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    version: int
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        (found,) = [field for field in self.fields if field.name == name]
        return found


EVENT_TYPES = (
    "click",
    "page_view",
    "search_filter_use",
    "quality_change",
    "video_complete",
    "page_engagement",
    "video_start",
    "video_heartbeat",
)

_ENVELOPE_FIELDS = (
    Field("schema_version", Kind.INT, "schema_version", required=True),
    Field("event_id", Kind.UUID, "event_id", required=True),
    Field("event_type", Kind.TEXT, "event_type", required=True, choices=frozenset(EVENT_TYPES)),
    Field("received_at", Kind.TIME, "received_at", required=True),
)
# The event's own fields, under their wire names.
_EVENT_FIELDS = (
    Field("user_id", Kind.TEXT, "user_id"),
    Field("country", Kind.TEXT, "country"),
    Field("device", Kind.TEXT, "device"),
    Field("element", Kind.TEXT, "element"),
    Field("page_url", Kind.TEXT, "page_url"),
    Field("referrer_url", Kind.TEXT, "referrer_url"),
    Field("filter_type", Kind.TEXT, "filter_type"),
    Field("filter_value", Kind.TEXT, "filter_value"),
    Field("video_id", Kind.TEXT, "video_id"),
    Field("from_quality", Kind.TEXT, "from_quality"),
    Field("to_quality", Kind.TEXT, "to_quality"),
    Field("current_time", Kind.INT, "current_time_s"),
    Field("duration", Kind.INT, "duration_s"),
)

# Version 1 stored the client's timestamp as the event time, as sent.
ENVELOPE_V1 = Envelope(
    version=1,
    fields=(
        *_ENVELOPE_FIELDS,
        Field("timestamp", Kind.TIME, "event_time", required=True),
        *_EVENT_FIELDS,
    ),
)
# Version 2 stores the time corrected for the client's clock (see
# `events.records_for`) beside the client's own, unchanged timestamp, and adds
# identity and session ids, three event types and the User-Agent enrichment.
ENVELOPE = Envelope(
    version=2,
    fields=(
        *_ENVELOPE_FIELDS,
        Field("timestamp", Kind.TIME, "client_timestamp", required=True),
        Field("event_time", Kind.TIME, "event_time", required=True),
        # Only when the request carried one.
        Field("sent_at", Kind.TIME, "sent_at"),
        *_EVENT_FIELDS,
        Field("anonymous_id", Kind.TEXT, "anonymous_id"),
        Field("session_id", Kind.TEXT, "session_id"),
        Field("page_view_id", Kind.TEXT, "page_view_id"),
        Field("engaged_ms", Kind.INT, "engaged_ms"),
        Field("max_scroll_pct", Kind.INT, "max_scroll_pct"),
        Field("playback_id", Kind.TEXT, "playback_id"),
        Field("position_s", Kind.FLOAT, "position_s"),
        Field("quality", Kind.TEXT, "quality"),
        # The video's length, as video_complete's `duration` is: one column.
        Field("duration_s", Kind.FLOAT, "duration_s"),
        Field("played_ms", Kind.INT, "played_ms"),
        # From the User-Agent header (`clickstream.useragent`), not the event.
        Field("browser", Kind.TEXT, "browser"),
        Field("os", Kind.TEXT, "os"),
        Field("device_class", Kind.TEXT, "device_class"),
        Field("is_bot", Kind.BOOL, "is_bot"),
    ),
)
SCHEMA_VERSION = ENVELOPE.version
# Versions the ETL still loads: records of an older API may wait in Kafka.
READABLE_VERSIONS = {envelope.version: envelope for envelope in (ENVELOPE_V1, ENVELOPE)}
