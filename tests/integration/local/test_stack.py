"""The local stack itself: real Kafka, real ClickHouse, stop and start."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from clickstream.clickhouse.client import ClickHouse
from clickstream.config import Settings
from clickstream_local.kafka_cds import archive_path
from clickstream_local.processes import read_pid
from clickstream_local.provision import kafka_libs_dir
from clickstream_local.stack import Stack
from tests.integration.pipeline import event, read_topic, wait_until

pytestmark = pytest.mark.anytopology


async def test_a_record_goes_through_kafka(settings: Settings) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(settings.kafka.topic, b"hello", key=b"k")
    finally:
        await producer.stop()
    [record] = await read_topic(settings, settings.kafka.topic, 1)
    assert (record.key, record.value) == (b"k", b"hello")


async def test_clickhouse_creates_inserts_and_selects(settings: Settings) -> None:
    table = f"{settings.clickhouse.database}.roundtrip"
    async with ClickHouse(settings.clickhouse) as clickhouse:
        await clickhouse.execute(f"CREATE TABLE {table} (n UInt32, s String) ENGINE = Memory")
        await clickhouse.execute(f"INSERT INTO {table} (n, s) VALUES", [(1, "a"), (2, "b")])
        rows = await clickhouse.execute(f"SELECT n, s FROM {table} ORDER BY n")
    assert rows == [(1, "a"), (2, "b")]


async def test_a_schema_connection_sets_the_servers_ddl_wait(settings: Settings) -> None:
    """The server waits `ddl_timeout_s` for its nodes: an odd value survives the
    trip (asynch wrote Int64 query settings unsigned; 18.16 read 180 as 90)."""
    odd = settings.clickhouse.model_copy(update={"ddl_timeout_s": 123})
    async with ClickHouse(odd, ddl=True) as clickhouse:
        rows = await clickhouse.execute(
            "SELECT value FROM system.settings WHERE name = 'distributed_ddl_task_timeout'"
        )
        # And it holds for the connection's later statements too.
        again = await clickhouse.execute(
            "SELECT value FROM system.settings WHERE name = 'distributed_ddl_task_timeout'"
        )
    assert rows == again == [("123",)]


def test_status_json_reports_every_component_healthy(stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clickstream", "local", "status", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    assert report["topology"] == stack.plan.topology
    unhealthy = [row["name"] for row in report["components"] if not row["healthy"]]
    assert unhealthy == [], result.stdout
    assert result.returncode == 0
    for row in report["components"]:
        assert row["pid"] and row["log_file"] and row["data_dir"]
        # The rollup job only connects out; every other component listens.
        assert row["ports"] or row["kind"] == "rollup", row["name"]


def test_one_component_stops_and_starts(stack: Stack) -> None:
    component = [c for c in stack.plan.components if c.kind == "clickhouse"][-1]
    name = component.name
    try:
        stack.stop(name)
        row = next(r for r in stack.status()["components"] if r["name"] == name)
        assert (row["running"], row["healthy"]) == (False, False)
    finally:
        stack.start(name)
    row = next(r for r in stack.status()["components"] if r["name"] == name)
    assert (row["running"], row["healthy"]) == (True, True)
    assert component.log_file.exists()


def test_every_broker_maps_the_class_archive(stack: Stack) -> None:
    """The JVM skips an archive it cannot use with only a warning: read its mappings."""
    archive = archive_path(kafka_libs_dir(stack.local.cache_dir.resolve()))
    assert archive.exists()
    for broker in (c for c in stack.plan.components if c.kind == "kafka"):
        pid = read_pid(broker)
        assert pid is not None, broker.name
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert str(archive) in maps, f"{broker.name} runs without {archive}"


async def test_the_stacks_own_pipeline_loads_an_event(stack: Stack) -> None:
    """`local up` runs the API (gunicorn) and the ETL: an event posted there lands."""
    body = event("search_filter_use", user_id=f"user-{uuid.uuid4()}")
    async with httpx.AsyncClient(base_url=stack.plan.api_url, timeout=30) as client:
        response = await client.post("/api/v1/events", json={"event": body})
    assert response.status_code == 200, response.text
    settings = stack.service_settings()

    async def landed() -> bool:
        async with ClickHouse(settings.clickhouse) as clickhouse:
            rows = await clickhouse.execute(
                "SELECT filter_value FROM clickstream.events FINAL "
                f"WHERE event_id = toUUID('{body['event_id']}')"
            )
        return rows == [("the star",)]

    await wait_until(landed, timeout_s=60, what="the event in clickstream.events")
