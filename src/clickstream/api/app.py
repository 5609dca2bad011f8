"""The ingest API: `create_app(settings)` builds it; gunicorn calls it in each worker."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from clickstream import telemetry, useragent
from clickstream.api.errors import error_response
from clickstream.api.metrics import ApiMetrics, RequestCounter
from clickstream.api.openapi import document_ingest_routes
from clickstream.api.routes import INGEST_ROUTES, health
from clickstream.api.sdk import sdk_route
from clickstream.api.state import ApiState
from clickstream.api.write_keys import WriteKeys
from clickstream.config import Settings
from clickstream.errors import ClickstreamError
from clickstream.producer import EventSink, KafkaSink


def create_app(settings: Settings, sink: EventSink | None = None) -> FastAPI:
    """The FastAPI application; `sink` is for unit tests (the real one is Kafka)."""
    metrics = ApiMetrics()
    app = FastAPI(
        # FastAPI's own OpenTelemetry support gives the server span per request;
        # its metrics and logs are off (Prometheus and our JSON logs cover
        # them), and with tracing off it is skipped entirely.
        telemetry={
            "tracing": telemetry.tracing_enabled(),
            "metrics": False,
            "logs": False,
            "operation_spans": False,
        },
        title="clickstream ingest API",
        version="1",
        description="Accepts user-activity events from the online cinema frontend.",
        lifespan=_lifespan(settings, metrics, sink),
    )
    app.add_middleware(
        RequestCounter,
        metrics=metrics,
        plain_routes=frozenset(route.path for route in INGEST_ROUTES),
    )
    if settings.api.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_allow_origins,
            allow_credentials=False,
            allow_methods=["POST"],
            allow_headers=["Content-Type", "Content-Encoding", "X-Clickstream-Key"],
        )
    app.add_exception_handler(ClickstreamError, error_response)
    app.router.routes.extend(INGEST_ROUTES)
    app.router.routes.append(sdk_route())
    app.include_router(health)
    document_ingest_routes(app)
    return app


def _lifespan(
    settings: Settings, metrics: ApiMetrics, sink: EventSink | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        telemetry.setup_process(settings, service="clickstream-api")
        own_sink: KafkaSink | None = None
        active = sink
        if active is None:
            active = own_sink = KafkaSink(
                settings.kafka,
                produce_timeout_s=settings.api.produce_timeout_s,
                linger_ms=settings.api.linger_ms,
                max_in_flight=settings.api.max_in_flight,
                on_flush=metrics.produce_seconds.observe,
            )
            await own_sink.start()
        app.state.api = ApiState(settings, active, metrics, WriteKeys(settings.api.write_keys))
        # The User-Agent parser builds its matchers on first use (~0.8 s): pay
        # that here, not in a worker's first request.
        useragent.client_of("Mozilla/5.0")
        # Everything built so far lives as long as the worker: keep the cyclic
        # garbage collector from scanning it again on every collection.
        gc.freeze()
        try:
            yield
        finally:
            if own_sink is not None:
                await own_sink.stop()
            telemetry.shutdown()

    return lifespan
