"""Readiness probes of the local stack, one per kind of component.

Ready means: Kafka answers metadata, ClickHouse answers `SELECT 1`, ZooKeeper
answers `ruok`, the API and the ETL answer their readiness endpoints.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from clickstream_local.components import Component

T = TypeVar("T")


def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def clickhouse_ready(http_port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{http_port}/?query=SELECT%201", timeout=2.0
        ) as response:
            return bool(response.read().strip() == b"1")
    except (OSError, urllib.error.URLError):
        return False


def zookeeper_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
            sock.sendall(b"ruok")
            return sock.recv(16) == b"imok"
    except OSError:
        return False


async def _kafka_metadata(port: int) -> bool:
    # aiokafka is imported here too (besides producer and etl): the local stack
    # must ask each broker for metadata, which a bare TCP connect cannot prove.
    from aiokafka import AIOKafkaClient
    from aiokafka.errors import KafkaError

    client = AIOKafkaClient(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=3000)
    try:
        await client.bootstrap()
        return len(client.cluster.brokers()) > 0
    except (KafkaError, OSError):
        return False
    finally:
        await client.close()


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run async admin work from synchronous stack code, even inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def kafka_ready(port: int) -> bool:
    # A broker that is still starting makes aiokafka log a connection error on
    # every probe; the probe's answer already says it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    return run_coroutine(lambda: _kafka_metadata(port))


def ready(component: Component) -> bool:
    ports = component.ports
    match component.kind:
        case "kafka":
            return kafka_ready(ports["kafka"])
        case "clickhouse":
            return clickhouse_ready(ports["http"])
        case "zookeeper":
            return zookeeper_ready(ports["client"])
        case "api":
            return http_ok(f"http://127.0.0.1:{ports['http']}/readyz")
        case "etl":
            return http_ok(f"http://127.0.0.1:{ports['metrics']}/readyz")
        case "rollup":
            # Nothing to ask: it starts after the migrations and retries its
            # passes; running is ready.
            return True
