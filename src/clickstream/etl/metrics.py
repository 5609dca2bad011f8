"""The ETL's Prometheus series and its small HTTP port (/metrics, /healthz, /readyz)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FRESHNESS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
ROW_BUCKETS = (1, 10, 100, 1000, 5000, 10_000, 20_000, 50_000)


class EtlMetrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.rows_inserted = Counter(
            "clickstream_etl_rows_inserted", "Rows ClickHouse accepted", registry=registry
        )
        self.dead_lettered = Counter(
            "clickstream_etl_dead_lettered",
            "Records sent to the dead-letter topic, by reason",
            ["reason"],
            registry=registry,
        )
        self.records_consumed = Counter(
            "clickstream_etl_records_consumed", "Records read from Kafka", registry=registry
        )
        self.batch_rows = Histogram(
            "clickstream_etl_batch_rows", "Rows per insert", buckets=ROW_BUCKETS, registry=registry
        )
        self.insert_seconds = Histogram(
            "clickstream_etl_insert_seconds",
            "Duration of a successful insert",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.insert_retries = Counter(
            "clickstream_etl_insert_retries",
            "Failed inserts that will be retried",
            registry=registry,
        )
        self.clickhouse_up = Gauge(
            "clickstream_etl_clickhouse_up",
            "1 when the last insert or probe succeeded",
            registry=registry,
        )
        self.freshness_seconds = Histogram(
            "clickstream_etl_freshness_seconds",
            "Insert time minus received_at of the newest row of each batch",
            buckets=FRESHNESS_BUCKETS,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "clickstream_etl_consumer_lag",
            "Records in Kafka not yet loaded, per partition",
            ["partition"],
            registry=registry,
        )
        self.commits = Counter(
            "clickstream_etl_commits", "Offset commits after a successful insert", registry=registry
        )
        self.clickhouse_up.set(0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class StatusServer:
    """A minimal HTTP/1.0 responder; the ETL has no other reason to carry a web framework."""

    def __init__(
        self,
        metrics: EtlMetrics,
        *,
        live: Callable[[], bool],
        ready: Callable[[], bool],
    ) -> None:
        self._metrics = metrics
        self._live = live
        self._ready = ready
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port)

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one chosen for port 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5.0)
            parts = request_line.decode("latin-1").split()
            path = parts[1] if len(parts) >= 2 else ""
            status, body, media = self._route(path)
            writer.write(
                f"HTTP/1.0 {status}\r\nContent-Type: {media}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _route(self, path: str) -> tuple[str, bytes, str]:
        path = path.split("?", 1)[0]
        if path == "/metrics":
            return "200 OK", self._metrics.render(), "text/plain; version=0.0.4"
        if path in ("/healthz", "/readyz"):
            ok = self._live() if path == "/healthz" else self._ready()
            return (
                ("200 OK", b"ok\n", "text/plain")
                if ok
                else (
                    "503 Service Unavailable",
                    b"not ok\n",
                    "text/plain",
                )
            )
        return "404 Not Found", b"not found\n", "text/plain"
