"""Least privilege on ClickHouse 18.16, on the stack's own users (clickstream_local.components).

The ETL's user may insert events only through its door (`clickstream_ingest`)
and is refused a read or a drop of anything in `clickstream`; the analysts'
user reads and may not write or drop. These run on the stack's `clickstream`
databases, the only ones those users may use (each test's database is not).
"""

from __future__ import annotations

import uuid

import orjson
import pytest

from clickstream.clickhouse.client import ClickHouse, ClickHouseError
from clickstream.config import ClickHouseSettings, Settings
from clickstream.privacy import cluster_nodes, id_hash, id_predicate, wait_for_mutations
from clickstream_local.clickhouse_config import ANALYST_USER, ETL_USER
from tests.integration.pipeline import wait_until

pytestmark = pytest.mark.anytopology

ACCESS_DENIED = "Code: 291"
DDL_PROHIBITED = "Code: 392"
READONLY = "Code: 164"


def as_user(settings: Settings, user: str) -> ClickHouseSettings:
    """Connected to the one database this user may use (a connection opens in one)."""
    database = "clickstream_ingest" if user == ETL_USER else "clickstream"
    return settings.clickhouse.model_copy(update={"user": user, "database": database})


async def refused(settings: ClickHouseSettings, query: str, code: str) -> None:
    with pytest.raises(ClickHouseError) as error:
        async with ClickHouse(settings, database=settings.database) as clickhouse:
            await clickhouse.execute(query)
    assert code in str(error.value), error.value


def envelope(user_id: str) -> bytes:
    return orjson.dumps(
        {
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "event_type": "click",
            "received_at": "2024-10-03T14:30:00Z",
            "timestamp": "2024-10-03T14:30:00Z",
            "user_id": user_id,
        }
    )


async def test_the_etl_user_inserts_through_its_door_only(base_settings: Settings) -> None:
    etl = as_user(base_settings, ETL_USER)
    user_id = f"privilege-test-{uuid.uuid4()}"
    async with ClickHouse(etl, database=etl.database) as clickhouse:
        await clickhouse.execute(
            "INSERT INTO clickstream_ingest.events_ingest (envelope) VALUES",
            [(envelope(user_id),)],
            settings={"insert_distributed_sync": 1, "strings_as_bytes": True},
        )
    try:
        async with ClickHouse(base_settings.clickhouse) as clickhouse:

            async def landed() -> bool:
                [(count,)] = await clickhouse.execute(
                    f"SELECT count() FROM clickstream.events WHERE user_id = '{user_id}'"
                )
                return bool(count == 1)

            await wait_until(landed, timeout_s=30)
    finally:
        async with ClickHouse(base_settings.clickhouse, ddl=True) as clickhouse:
            on_cluster = (
                f"ON CLUSTER {base_settings.clickhouse.cluster}"
                if base_settings.clickhouse.replicated
                else ""
            )
            await clickhouse.execute(
                f"ALTER TABLE clickstream.events_local {on_cluster} DELETE WHERE "
                + id_predicate("user_id", id_hash(user_id))
            )
        main = base_settings.clickhouse.model_copy(update={"database": "clickstream"})
        await wait_for_mutations(main, await cluster_nodes(main))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELECT count() FROM clickstream.events", ACCESS_DENIED),
        ("SELECT count() FROM clickstream.events_local", ACCESS_DENIED),
        # A view with TO reads its target: refused as well.
        ("SELECT count() FROM clickstream.events_ingest_mv", ACCESS_DENIED),
        ("SELECT count() FROM remote('127.0.0.1', clickstream.events)", ACCESS_DENIED),
        ("INSERT INTO clickstream.events_ingest (envelope) VALUES ('{}')", ACCESS_DENIED),
        ("DROP TABLE clickstream.events", DDL_PROHIBITED),
        ("DROP TABLE clickstream_ingest.events_ingest", DDL_PROHIBITED),
        ("TRUNCATE TABLE clickstream_ingest.suppressed_ids", DDL_PROHIBITED),
        ("ALTER TABLE clickstream.events_local DELETE WHERE 1", DDL_PROHIBITED),
        ("CREATE TABLE clickstream_ingest.mine (n UInt8) ENGINE = Memory", DDL_PROHIBITED),
    ],
)
async def test_the_etl_user_is_refused_reads_and_ddl(
    base_settings: Settings, query: str, code: str
) -> None:
    await refused(as_user(base_settings, ETL_USER), query, code)


async def test_the_etl_user_reads_the_suppression_list(base_settings: Settings) -> None:
    etl = as_user(base_settings, ETL_USER)
    async with ClickHouse(etl, database=etl.database) as clickhouse:
        await clickhouse.execute("SELECT count() FROM clickstream_ingest.suppressed_ids")


async def test_the_analyst_reads_and_may_not_write(base_settings: Settings) -> None:
    analyst = as_user(base_settings, ANALYST_USER)
    async with ClickHouse(analyst, database=analyst.database) as clickhouse:
        await clickhouse.execute("SELECT count() FROM clickstream.page_views")
    await refused(
        analyst, "INSERT INTO clickstream.events_ingest (envelope) VALUES ('{}')", READONLY
    )
    await refused(analyst, "DROP TABLE clickstream.events", READONLY)
    await refused(analyst, "SELECT count() FROM clickstream_ingest.suppressed_ids", ACCESS_DENIED)
