"""The wire contract: HTTP event models -> Kafka envelope (versioned).

Three shapes, three names: `Event` is what the frontend POSTs (`models`), the
envelope is what goes to Kafka (the event plus `event_id`, the times and the
User-Agent enrichment; `records` writes it, `clickstream.envelope` declares
its fields), and the ClickHouse row is made from the envelope by the
materialized view in `clickhouse/sql/`.
"""

from clickstream.envelope import EVENT_TYPES, SCHEMA_VERSION
from clickstream.events.models import (
    EXAMPLES,
    BatchAccepted,
    BatchRequest,
    Click,
    Event,
    EventAccepted,
    EventRequest,
    PageEngagement,
    PageView,
    QualityChange,
    SearchFilterUse,
    VideoComplete,
    VideoHeartbeat,
    VideoStart,
    batch_request,
    single_request,
)
from clickstream.events.records import (
    MAX_REPORTED_ERRORS,
    Record,
    event_id_of,
    new_event_id,
    records_for,
    to_record,
    utc_text,
)

__all__ = [
    "EVENT_TYPES",
    "EXAMPLES",
    "MAX_REPORTED_ERRORS",
    "SCHEMA_VERSION",
    "BatchAccepted",
    "BatchRequest",
    "Click",
    "Event",
    "EventAccepted",
    "EventRequest",
    "PageEngagement",
    "PageView",
    "QualityChange",
    "Record",
    "SearchFilterUse",
    "VideoComplete",
    "VideoHeartbeat",
    "VideoStart",
    "batch_request",
    "event_id_of",
    "new_event_id",
    "records_for",
    "single_request",
    "to_record",
    "utc_text",
]
