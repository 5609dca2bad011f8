"""The ops tests' own clean-up: migrations make an `<db>_ingest` database beside each test's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from clickstream.clickhouse.client import ClickHouse
from clickstream.config import Settings
from clickstream.privacy import ingest_database


@pytest.fixture
async def ops_settings(settings: Settings, base_settings: Settings) -> AsyncIterator[Settings]:
    yield settings
    clickhouse_settings = settings.clickhouse
    on_cluster = (
        f"ON CLUSTER {clickhouse_settings.cluster}" if clickhouse_settings.replicated else ""
    )
    async with ClickHouse(base_settings.clickhouse, ddl=True) as clickhouse:
        await clickhouse.execute(
            f"DROP DATABASE IF EXISTS {ingest_database(clickhouse_settings.database)} {on_cluster}"
        )
