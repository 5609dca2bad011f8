"""The API's Prometheus series.

Under gunicorn every worker is its own process, so the series live in
prometheus_client's multiprocess files (`PROMETHEUS_MULTIPROC_DIR`, set by
`clickstream api` before the workers fork) and `/metrics` on any worker sums
all of them.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clickstream.events import EVENT_TYPES

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "clickstream_api_requests",
            "HTTP requests by route and status code",
            ["route", "status"],
            registry=self.registry,
        )
        self.events_accepted = Counter(
            "clickstream_api_events_accepted",
            "Events acknowledged by Kafka and answered 200, by type",
            ["event_type"],
            registry=self.registry,
        )
        self.events_rejected = Counter(
            "clickstream_api_events_rejected",
            "Requests answered 4xx (nothing produced), by status",
            ["status"],
            registry=self.registry,
        )
        self.unavailable = Counter(
            "clickstream_api_unavailable",
            "Requests answered 503 because Kafka could not take them",
            registry=self.registry,
        )
        self.produce_seconds = Histogram(
            "clickstream_api_produce_seconds",
            "Time from a coalesced flush to Kafka's acknowledgement of all its records",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

        self._accepted = {
            event_type: self.events_accepted.labels(event_type) for event_type in EVENT_TYPES
        }
        self._requests: dict[tuple[str, int], Any] = {}

    def accepted(self, event_type: str) -> Any:
        return self._accepted[event_type]

    def request(self, route: str, status: int) -> Any:
        child = self._requests.get((route, status))
        if child is None:
            child = self._requests[(route, status)] = self.requests.labels(route, str(status))
        return child

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


class RequestCounter:
    """Counts every response by matched route template and status code."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, plain_routes: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        # Plain Starlette routes leave no "route" in the scope; their path is the label.
        self.plain_routes = plain_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None)
            if path is None:
                path = scope["path"] if scope["path"] in self.plain_routes else "unmatched"
            self.metrics.request(path, status).inc()
