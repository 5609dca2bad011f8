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


EVENT_TYPES = ("click", "page_view", "search_filter_use", "quality_change", "video_complete")

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
# `events.records_for`) beside the client's own, unchanged timestamp.
ENVELOPE = Envelope(
    version=2,
    fields=(
        *_ENVELOPE_FIELDS,
        Field("timestamp", Kind.TIME, "client_timestamp", required=True),
        Field("event_time", Kind.TIME, "event_time", required=True),
        # Only when the request carried one.
        Field("sent_at", Kind.TIME, "sent_at"),
        *_EVENT_FIELDS,
    ),
)
SCHEMA_VERSION = ENVELOPE.version
# Versions the ETL still loads: records of an older API may wait in Kafka.
READABLE_VERSIONS = {envelope.version: envelope for envelope in (ENVELOPE_V1, ENVELOPE)}
