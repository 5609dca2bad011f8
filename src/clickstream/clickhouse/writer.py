"""The ETL's row writer: envelopes into `events_ingest`, synchronously sharded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from clickstream.clickhouse.client import ClickHouse
from clickstream.config import ClickHouseSettings

TABLE = "events_ingest"
INSERT_SETTINGS = {
    # Return only when every shard has its rows: an asynchronous Distributed
    # insert could be lost after we commit the Kafka offsets.
    "insert_distributed_sync": 1,
    # The rows are Kafka values as they came, bytes.
    "strings_as_bytes": True,
}


class RowWriter(Protocol):
    # What a trace span of an insert names: where the rows go and how.
    database: str
    table: str
    insert_query: str
    host: str
    port: int

    async def write(self, rows: Sequence[bytes]) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class ClickHouseWriter:
    def __init__(self, settings: ClickHouseSettings, *, database: str | None = None) -> None:
        self.database = database or settings.database
        self.table = TABLE
        self.insert_query = f"INSERT INTO {self.database}.{TABLE} (envelope) VALUES"
        self.host = settings.host
        self.port = settings.port
        self._clickhouse = ClickHouse(settings)

    async def write(self, rows: Sequence[bytes]) -> None:
        await self._clickhouse.execute(
            self.insert_query, [(row,) for row in rows], settings=INSERT_SETTINGS
        )

    async def ping(self) -> None:
        await self._clickhouse.execute("SELECT 1")

    async def close(self) -> None:
        await self._clickhouse.close()
