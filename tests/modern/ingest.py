"""The ingest path as the API and the ETL drive it, aimed at chDB."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import orjson
from asynch.proto.connection import Connection

from clickstream import events
from clickstream.clickhouse.writer import INSERT_SETTINGS
from tests.modern.engine import ModernClickHouse

RECEIVED_AT = datetime.datetime(2024, 10, 3, 12, 0, tzinfo=datetime.UTC)

# asynch keeps these for itself (how it encodes columns); they never reach the server.
CLIENT_SIDE = frozenset(Connection().available_client_settings)  # type: ignore[no-untyped-call,attr-defined]
SERVER_INSERT_SETTINGS = {k: v for k, v in INSERT_SETTINGS.items() if k not in CLIENT_SIDE}


def envelopes(bodies: Sequence[dict[str, Any]]) -> list[bytes]:
    """HTTP bodies -> Kafka values, through the API's own parsing and envelope."""
    request = events.batch_request.validate_json(orjson.dumps({"events": list(bodies)}))
    return [
        events.to_record(event, event_id=events.event_id_of(event), received_at=RECEIVED_AT).value
        for event in request.events
    ]


def write(clickhouse: ModernClickHouse, database: str, rows: Sequence[bytes]) -> None:
    """One block into events_ingest, as the ETL's writer sends it (its server-side settings)."""
    clickhouse.insert_strings(f"{database}.events_ingest", "envelope", rows, SERVER_INSERT_SETTINGS)
