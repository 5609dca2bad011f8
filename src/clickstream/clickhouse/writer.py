"""The ETL's row writer: envelopes into `events_ingest`, synchronously sharded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from clickstream.clickhouse.client import ClickHouse
from clickstream.config import ClickHouseSettings

INSERT_SETTINGS = {
    # Return only when every shard has its rows: an asynchronous Distributed
    # insert could be lost after we commit the Kafka offsets.
    "insert_distributed_sync": 1,
    # The rows are Kafka values as they came, bytes.
    "strings_as_bytes": True,
}


class RowWriter(Protocol):
    async def write(self, rows: Sequence[bytes]) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class ClickHouseWriter:
    def __init__(self, settings: ClickHouseSettings, *, database: str | None = None) -> None:
        self._database = database or settings.database
        self._clickhouse = ClickHouse(settings)

    async def write(self, rows: Sequence[bytes]) -> None:
        await self._clickhouse.execute(
            f"INSERT INTO {self._database}.events_ingest (envelope) VALUES",
            [(row,) for row in rows],
            settings=INSERT_SETTINGS,
        )

    async def ping(self) -> None:
        await self._clickhouse.execute("SELECT 1")

    async def close(self) -> None:
        await self._clickhouse.close()
