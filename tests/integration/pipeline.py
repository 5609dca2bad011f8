"""Helpers that drive the real pipeline pieces from a test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from clickstream.api.app import create_app
from clickstream.clickhouse.client import ClickHouse
from clickstream.config import Settings
from clickstream.etl.process import build_etl
from clickstream.etl.runner import Etl
from tests.event_bodies import event as event  # re-exported: the integration tests' import


@contextlib.asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its real Kafka producer, served in-process."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        deadline = time.monotonic() + 30
        while not app.state.api.sink.ready:
            assert time.monotonic() < deadline, "producer never became ready"
            await asyncio.sleep(0.1)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api", timeout=30
        ) as client:
            yield client


@contextlib.asynccontextmanager
async def running_etl(settings: Settings) -> AsyncIterator[Etl]:
    etl = build_etl(settings)
    task = asyncio.create_task(etl.run())
    try:
        yield etl
    finally:
        etl.request_stop()
        await asyncio.wait_for(task, timeout=60)


def etl_env(settings: Settings) -> dict[str, str]:
    """Environment for a `clickstream etl` process with these settings."""
    ch, kafka, etl = settings.clickhouse, settings.kafka, settings.etl
    return {
        **os.environ,
        "CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "CLICKSTREAM_KAFKA__TOPIC": kafka.topic,
        "CLICKSTREAM_KAFKA__DLQ_TOPIC": kafka.dlq_topic,
        "CLICKSTREAM_CLICKHOUSE__HOST": ch.host,
        "CLICKSTREAM_CLICKHOUSE__PORT": str(ch.port),
        "CLICKSTREAM_CLICKHOUSE__ALT_HOSTS": ch.alt_hosts,
        "CLICKSTREAM_CLICKHOUSE__DATABASE": ch.database,
        "CLICKSTREAM_CLICKHOUSE__REPLICATED": "true" if ch.replicated else "false",
        "CLICKSTREAM_ETL__GROUP_ID": etl.group_id,
        "CLICKSTREAM_ETL__METRICS_PORT": "0",
        "CLICKSTREAM_ETL__BATCH_MAX_WAIT_S": str(etl.batch_max_wait_s),
        "CLICKSTREAM_ETL__BATCH_MAX_ROWS": str(etl.batch_max_rows),
        "CLICKSTREAM_ETL__RETRY_MAX_S": str(etl.retry_max_s),
        "CLICKSTREAM_LOG_FORMAT": "json",
        "OTEL_TRACES_EXPORTER": "none",
    }


def start_etl_process(settings: Settings, log_path: str) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "clickstream", "etl"],
            env=etl_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def post_events(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> list[str]:
    """Send events in batches; every one must be acknowledged."""
    ids: list[str] = []
    for start in range(0, len(events), 500):
        response = await client.post(
            "/api/v1/events/batch", json={"events": events[start : start + 500]}
        )
        assert response.status_code == 200, response.text
        ids += response.json()["event_ids"]
    return ids


async def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    async with ClickHouse(settings.clickhouse) as clickhouse:
        return await clickhouse.execute(sql)


async def stored_ids(settings: Settings, *, final: bool = True) -> list[str]:
    """event_ids in `events`, as analysts see them (FINAL) or raw."""
    db = settings.clickhouse.database
    rows = await query(
        settings, f"SELECT toString(event_id) FROM {db}.events {'FINAL' if final else ''}"
    )
    return [row[0] for row in rows]


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 60.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        await asyncio.sleep(0.25)


async def wait_for_ids(settings: Settings, expected: set[str], timeout_s: float = 90.0) -> None:
    async def all_there() -> bool:
        return expected <= set(await stored_ids(settings))

    await wait_until(all_there, timeout_s=timeout_s, what=f"{len(expected)} events in ClickHouse")


async def read_topic(
    settings: Settings, topic: str, count: int, timeout_s: float = 30.0
) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(records) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                records.extend(messages)
    finally:
        await consumer.stop()
    return records


async def produce_raw(settings: Settings, value: bytes, *, partition: int | None = None) -> None:
    """A record straight into the events topic, around the API."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(settings.kafka.topic, value, partition=partition)
    finally:
        await producer.stop()
