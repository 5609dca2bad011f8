"""`make bench-etl`: how fast the ETL loads a Kafka backlog into ClickHouse.

Needs the stack (`make up`). Preloads M events into a fresh topic, starts a
`clickstream etl` process on it and times until every row is in ClickHouse.
In the same run, the ceiling: clickhouse-client inserting the same rows from a
JSONEachRow file into a table of the same shape.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaProducer

from clickstream.clickhouse.migrations import migrate
from clickstream.config import ClickHouseSettings
from clickstream.events import EXAMPLES, new_event_id, single_request, to_record
from clickstream_local.probes import run_coroutine
from clickstream_local.stack import Stack
from tests.benchmarks.harness import drop_topic, new_topic, process, running_stack
from tests.chaos.memory import PeakRss

PARTITIONS = 6


def envelopes(count: int) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs: the five example types, many users, fresh ids."""
    parsed = [
        single_request.validate_json(orjson.dumps({"event": body})).event
        for body in EXAMPLES.values()
    ]
    received = datetime.now(UTC)
    out = []
    for i in range(count):
        event = parsed[i % len(parsed)].model_copy(update={"user_id": f"user-{i % 5000}"})
        record = to_record(event, event_id=new_event_id(), received_at=received)
        out.append((record.key, record.value))
    return out


async def preload(bootstrap: str, topic: str, pairs: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=1 << 20
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k) for k, v in pairs]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def clickhouse(http_port: int, sql: str) -> str:
    url = f"http://127.0.0.1:{http_port}/?" + urllib.parse.urlencode({"query": sql})
    try:
        with urllib.request.urlopen(url, data=b"", timeout=300) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{sql}: {error.read().decode(errors='replace')}") from None


@dataclass(frozen=True)
class EtlResult:
    events: int
    etl_eps: float
    ceiling_eps: float
    peak_rss_mb: float

    @property
    def ratio(self) -> float:
        return self.etl_eps / self.ceiling_eps


def measure(stack: Stack, *, count: int = 500_000, memory: PeakRss | None = None) -> EtlResult:
    """Preload `count` events, time one `clickstream etl` loading them, then the ceiling."""
    settings = stack.service_settings()
    node = stack.plan.clickhouse_nodes[0]
    topic = new_topic(stack, "bench.etl", PARTITIONS)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    run_coroutine(lambda: migrate(settings.clickhouse, database=database))
    on_cluster = (
        f"ON CLUSTER {settings.clickhouse.cluster}" if settings.clickhouse.replicated else ""
    )
    memory = memory or PeakRss()
    label = "etl (bench-etl)"
    try:
        print(f"preloading {count:,} events into {topic} ...", flush=True)
        pairs = envelopes(count)
        run_coroutine(lambda: preload(stack.plan.kafka_bootstrap, topic, pairs))
        pairs.clear()

        env = {
            "CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS": stack.plan.kafka_bootstrap,
            "CLICKSTREAM_KAFKA__TOPIC": topic,
            "CLICKSTREAM_CLICKHOUSE__PORT": str(settings.clickhouse.port),
            "CLICKSTREAM_CLICKHOUSE__ALT_HOSTS": settings.clickhouse.alt_hosts,
            "CLICKSTREAM_CLICKHOUSE__REPLICATED": str(settings.clickhouse.replicated).lower(),
            "CLICKSTREAM_CLICKHOUSE__DATABASE": database,
            "CLICKSTREAM_ETL__GROUP_ID": f"bench-{database}",
            "CLICKSTREAM_ETL__METRICS_PORT": "0",
            "OTEL_TRACES_EXPORTER": "none",
            **{k: v for k, v in os.environ.items() if k.startswith("CLICKSTREAM_ETL__")},
        }
        count_sql = f"SELECT count() FROM {database}.events"
        with process([sys.executable, "-m", "clickstream", "etl"], env) as etl:
            memory.watch(label, lambda: etl.pid)
            first_at = None
            loaded = 0
            while loaded < count:
                time.sleep(0.1)
                memory.sample()
                loaded = int(clickhouse(node.http_port, count_sql))
                if loaded and first_at is None:
                    first_at, first_rows = time.perf_counter(), loaded
                if etl.poll() is not None:
                    sys.exit("the ETL exited early")
            done_at = time.perf_counter()
            memory.unwatch(label)
        assert first_at is not None
        etl_eps = (count - first_rows) / max(done_at - first_at, 1e-9)
        ceiling_eps = _ceiling(node.port, node.http_port, database, count, settings.clickhouse)
    finally:
        clickhouse(node.http_port, f"DROP DATABASE IF EXISTS {database} {on_cluster}")
        drop_topic(stack, topic)
    return EtlResult(count, etl_eps, ceiling_eps, memory.peaks.get(label, 0) / 2**20)


def _ceiling(
    port: int, http_port: int, database: str, count: int, settings: ClickHouseSettings
) -> float:
    """clickhouse-client inserting the rows the ETL stored, into tables of the same shape.

    On the cluster that is a replicated table of its own (a copy of
    events_local would claim the same ZooKeeper path) behind a Distributed
    table sharded the same way, inserted into synchronously as the ETL does.
    """
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as rows_file:
        rows_path = rows_file.name
    with open(rows_path, "wb") as rows_out:
        subprocess.run(
            [
                "clickhouse-client",
                "--port",
                str(port),
                "--query",
                f"SELECT * FROM {database}.events FORMAT JSONEachRow",
            ],
            stdout=rows_out,
            check=True,
        )
    target = f"{database}.ceiling"
    if settings.replicated:
        cluster = settings.cluster
        clickhouse(
            http_port,
            f"CREATE TABLE {database}.ceiling_local ON CLUSTER {cluster} AS {database}.events_local "
            "ENGINE = ReplicatedReplacingMergeTree("
            f"'/clickhouse/tables/{{shard}}/{database}/ceiling_local', '{{replica}}') "
            "PARTITION BY toYYYYMM(event_time) ORDER BY (event_type, user_id, event_time, event_id)",
        )
        clickhouse(
            http_port,
            f"CREATE TABLE {target} ON CLUSTER {cluster} AS {database}.events "
            f"ENGINE = Distributed({cluster}, {database}, ceiling_local, "
            "cityHash64(if(user_id = '', toString(event_id), user_id)))",
        )
    else:
        clickhouse(http_port, f"CREATE TABLE {target} AS {database}.events_local")
    started = time.perf_counter()
    with open(rows_path, "rb") as rows:
        subprocess.run(
            [
                "clickhouse-client",
                "--port",
                str(port),
                "--insert_distributed_sync=1",
                "--query",
                f"INSERT INTO {target} FORMAT JSONEachRow",
            ],
            stdin=rows,
            check=True,
        )
    ceiling_eps = count / (time.perf_counter() - started)
    os.unlink(rows_path)
    return ceiling_eps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    args = parser.parse_args()

    result = measure(running_stack(), count=args.events)
    print(
        f"ETL: {result.events:,} events at {result.etl_eps:,.0f} events/s "
        f"(peak RSS {result.peak_rss_mb:.0f} MB)"
    )
    print(
        f"ceiling: clickhouse-client JSONEachRow insert of the same rows at {result.ceiling_eps:,.0f} rows/s"
    )
    print(
        f"RESULT etl_eps={result.etl_eps:.0f} ceiling_eps={result.ceiling_eps:.0f} ratio={result.ratio:.2f}"
    )


if __name__ == "__main__":
    main()
