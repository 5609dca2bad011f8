"""The sharded, replicated topology: 3 brokers, 2 shards x 2 replicas."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from typing import Any

import pytest

from clickstream.clickhouse.client import ClickHouse
from clickstream.config import Settings
from clickstream_local import processes
from clickstream_local.stack import Stack
from tests.integration.pipeline import (
    api_client,
    event,
    post_events,
    running_etl,
    stored_ids,
    wait_for_ids,
    wait_until,
)

pytestmark = pytest.mark.cluster


async def per_node(cluster: Stack, settings: Settings, sql: str) -> dict[tuple[int, int], Any]:
    """Run `sql` on every ClickHouse node; keyed by (shard, replica)."""
    answers = {}
    for node in cluster.plan.clickhouse_nodes:
        node_settings = settings.clickhouse.model_copy(update={"port": node.port, "alt_hosts": ""})
        async with ClickHouse(node_settings) as clickhouse:
            answers[(node.shard, node.replica)] = await clickhouse.execute(sql)
    return answers


async def test_rows_spread_over_both_shards_and_replicas_agree(
    cluster: Stack, settings: Settings
) -> None:
    events = [
        event(kind, user_id=f"user-{i % 50}") for i, kind in enumerate(["click", "page_view"] * 500)
    ]
    events += [event("click", user_id=None) for _ in range(100)]
    async with api_client(settings) as client, running_etl(settings):
        ids = await post_events(client, events)
        await wait_for_ids(settings, set(ids))
    db = settings.clickhouse.database
    sql = f"SELECT toString(event_id) FROM {db}.events_local ORDER BY event_id"

    async def replicas_agree() -> bool:
        rows = await per_node(cluster, settings, sql)
        return bool(rows[(1, 1)] == rows[(1, 2)] and rows[(2, 1)] == rows[(2, 2)])

    await wait_until(replicas_agree, timeout_s=60, what="replicas to agree")
    rows = await per_node(cluster, settings, sql)
    shard1 = {r[0] for r in rows[(1, 1)]}
    shard2 = {r[0] for r in rows[(2, 1)]}
    assert shard1 and shard2, "both shards hold rows"
    assert shard1.isdisjoint(shard2)
    assert shard1 | shard2 == set(ids)
    # One user's events all live on one shard.
    users = await per_node(cluster, settings, f"SELECT DISTINCT user_id FROM {db}.events_local")
    assert {u[0] for u in users[(1, 1)]}.isdisjoint({u[0] for u in users[(2, 1)]} - {""})
    assert sorted(await stored_ids(settings)) == sorted(ids)


async def test_one_broker_stops_and_starts_without_losing_acknowledged_events(
    cluster: Stack, settings: Settings
) -> None:
    acknowledged: list[str] = []
    async with api_client(settings) as client, running_etl(settings):
        acknowledged += await post_events(client, [event() for _ in range(200)])
        try:
            cluster.stop("kafka-2")
            for _ in range(5):
                batch = [event() for _ in range(100)]
                response = await client.post("/api/v1/events/batch", json={"events": batch})
                assert response.status_code in (200, 503), response.text
                if response.status_code == 200:
                    acknowledged += response.json()["event_ids"]
        finally:
            cluster.start("kafka-2")
        acknowledged += await post_events(client, [event() for _ in range(200)])
        await wait_for_ids(settings, set(acknowledged), timeout_s=120)


async def test_a_schema_change_waits_for_a_late_node(
    cluster: Stack, base_settings: Settings
) -> None:
    """ClickHouse answers a DDL ON CLUSTER only when every node ran it, and sends
    nothing meanwhile: a node held up for longer than a query's read timeout must
    not fail the migrator (CI saw it on a loaded machine)."""
    short = base_settings.clickhouse.model_copy(update={"send_receive_timeout_s": 2.0})
    database = f"late_{uuid.uuid4().hex[:10]}"
    [late] = cluster.plan.select("clickhouse-4")
    pid = processes.read_pid(late)
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    resume = asyncio.get_running_loop().call_later(5.0, os.kill, pid, signal.SIGCONT)
    try:
        started = time.monotonic()
        async with ClickHouse(short, ddl=True) as clickhouse:
            answers = await clickhouse.execute(
                f"CREATE DATABASE IF NOT EXISTS {database} ON CLUSTER {short.cluster}"
            )
        waited = time.monotonic() - started
    finally:
        resume.cancel()
        os.kill(pid, signal.SIGCONT)
    assert len(answers) == len(cluster.plan.clickhouse_nodes)
    assert waited > short.send_receive_timeout_s
    async with ClickHouse(short, ddl=True) as clickhouse:
        await clickhouse.execute(f"DROP DATABASE IF EXISTS {database} ON CLUSTER {short.cluster}")
