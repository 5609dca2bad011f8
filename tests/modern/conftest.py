"""The modern tier: the project's schema and views on chDB (modern ClickHouse), no stack.

One chDB session serves the whole run (chDB is one engine per process); each
fixture that loads data migrates a database of its own in it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
import pytest
from asynch.proto.connection import Connection

from clickstream import events
from clickstream.clickhouse import migrations
from clickstream.clickhouse.writer import INSERT_SETTINGS
from clickstream.config import ClickHouseSettings
from tests.views_cases import DATA, RETRIED

try:
    from tests.modern.engine import ModernClickHouse
except ModuleNotFoundError as missing:
    raise ImportError("tests/modern runs on chDB: `make test-modern` installs it") from missing


SINGLE = ClickHouseSettings(replicated=False)
REPLICATED = ClickHouseSettings(replicated=True)
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


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModernClickHouse]:
    engine = ModernClickHouse(tmp_path_factory.mktemp("chdb"), cluster=SINGLE.cluster)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def migrate(clickhouse: ModernClickHouse) -> Callable[[str], str]:
    """Every migration, single-node form, into a new database; returns its name."""

    def apply(database: str) -> str:
        for migration in migrations.load():
            clickhouse.execute(migration.render(SINGLE, database))
        return database

    return apply


@pytest.fixture(scope="session")
def loaded(clickhouse: ModernClickHouse, migrate: Callable[[str], str]) -> str:
    """The views' data set, ingested through the materialized view; the database name."""
    database = migrate("views")
    write(clickhouse, database, envelopes(DATA))
    write(clickhouse, database, envelopes(RETRIED))
    return database
