"""The ingest API: `create_app(settings)` builds it; gunicorn calls it in each worker."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from clickstream import events, telemetry
from clickstream.api.body import check_media_type, read_body
from clickstream.api.metrics import ApiMetrics, RequestCounter
from clickstream.config import Settings
from clickstream.errors import Rejected, Unavailable
from clickstream.producer import EventSink, KafkaSink

SINGLE_PATH = "/api/v1/events"
BATCH_PATH = "/api/v1/events/batch"
MAX_REPORTED_ERRORS = 50
MAX_ECHOED_INPUT = 256


@dataclass(frozen=True)
class ApiState:
    settings: Settings
    sink: EventSink
    metrics: ApiMetrics


def _state(request: Request) -> ApiState:
    # Read directly, not through Depends: FastAPI's dependency solving cost
    # about a quarter of a request's CPU time on the ingest path.
    state: ApiState = request.app.state.api
    return state


def _json(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(content),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def _validation_detail(error: ValidationError) -> list[dict[str, Any]]:
    """FastAPI's usual 422 `detail` list, bounded so hostile input can't inflate it."""
    detail = []
    for item in error.errors(include_url=False)[:MAX_REPORTED_ERRORS]:
        entry: dict[str, Any] = {
            "type": item["type"],
            "loc": ["body", *item["loc"]],
            "msg": item["msg"],
        }
        value = item.get("input")
        if _echoable(value):
            entry["input"] = value
        if "ctx" in item:
            entry["ctx"] = {k: str(v) for k, v in item["ctx"].items()}
        detail.append(entry)
    return detail


def _echoable(value: Any) -> bool:
    """Short scalars only, and integers JSON encoders can write (64-bit)."""
    if isinstance(value, bool | float):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**64
    return isinstance(value, str) and len(value) <= MAX_ECHOED_INPUT


def _parse(adapter: Any, body: bytes) -> Any:
    try:
        return adapter.validate_json(body)
    except ValidationError as error:
        raise Rejected(422, _validation_detail(error)) from None


def _records(items: Sequence[Any], received_at: datetime) -> list[events.Record]:
    received = events.utc_text(received_at)
    try:
        return [
            events.to_record(item, event_id=events.event_id_of(item), received_at=received)
            for item in items
        ]
    except orjson.JSONEncodeError:
        # A lone surrogate (\ud800) passes JSON parsing but is not Unicode text.
        raise Rejected(
            422,
            [{"type": "string_unicode", "loc": ["body"], "msg": "strings must be valid Unicode"}],
        ) from None


async def _produce(state: ApiState, records: list[events.Record]) -> None:
    await state.sink.send(records)
    if len(records) == 1:
        state.metrics.accepted(records[0].event_type).inc()
    else:
        for event_type, count in Counter(r.event_type for r in records).items():
            state.metrics.accepted(event_type).inc(count)


async def _body(request: Request, state: ApiState) -> bytes:
    check_media_type(request)
    api = state.settings.api
    return await read_body(request, limit=api.max_body_bytes, timeout_s=api.body_read_timeout_s)


def _request_body_doc(model: type[BaseModel], examples: dict[str, Any]) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": schema, "examples": examples}
                for media in ("application/json", "text/plain")
            },
        }
    }


_SINGLE_DOC = _request_body_doc(
    events.EventRequest,
    {name: {"summary": name, "value": {"event": body}} for name, body in events.EXAMPLES.items()},
)
_BATCH_DOC = _request_body_doc(
    events.BatchRequest,
    {"mixed": {"summary": "one of each type", "value": {"events": list(events.EXAMPLES.values())}}},
)
_ERROR_RESPONSES = {
    400: "Broken body (invalid gzip, Content-Length, disconnect)",
    408: "The body did not arrive within the read deadline",
    413: "Body larger than the limit (also after decompression)",
    415: "Unsupported Content-Type or Content-Encoding",
    422: "The body does not match the contract",
    503: "Kafka could not acknowledge in time; retry after Retry-After",
}


def create_app(settings: Settings, sink: EventSink | None = None) -> FastAPI:
    """The FastAPI application; `sink` is for unit tests (the real one is Kafka)."""

    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        telemetry.setup_process(settings, service="clickstream-api")
        own_sink = None
        if sink is None:
            own_sink = KafkaSink(
                settings.kafka,
                produce_timeout_s=settings.api.produce_timeout_s,
                linger_ms=settings.api.linger_ms,
                max_in_flight=settings.api.max_in_flight,
                on_flush=metrics.produce_seconds.observe,
            )
            await own_sink.start()
        app.state.api = ApiState(settings, sink or own_sink, metrics)  # type: ignore[arg-type]
        # Everything built so far lives as long as the worker: keep the cyclic
        # garbage collector from scanning it again on every collection.
        gc.freeze()
        try:
            yield
        finally:
            if own_sink is not None:
                await own_sink.stop()
            telemetry.shutdown()

    tracing = telemetry.tracing_enabled()
    app = FastAPI(
        # FastAPI's own OpenTelemetry support gives the server span per request;
        # its metrics and logs are off (Prometheus and our JSON logs cover
        # them), and with tracing off it is skipped entirely.
        telemetry={
            "tracing": tracing,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
        },
        title="clickstream ingest API",
        version="1",
        description="Accepts user-activity events from the online cinema frontend.",
        lifespan=lifespan,
    )
    app.add_middleware(
        RequestCounter, metrics=metrics, plain_routes=frozenset({SINGLE_PATH, BATCH_PATH})
    )
    if settings.api.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_allow_origins,
            allow_credentials=False,
            allow_methods=["POST"],
            allow_headers=["Content-Type", "Content-Encoding"],
        )

    @app.exception_handler(Rejected)
    async def rejected(request: Request, error: Rejected) -> Response:
        metrics.events_rejected.labels(str(error.status_code)).inc()
        return _json({"detail": error.detail}, error.status_code)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, error: Unavailable) -> Response:
        metrics.unavailable.inc()
        retry_after = str(settings.api.retry_after_s)
        return _json({"detail": error.reason}, 503, headers={"Retry-After": retry_after})

    # The two ingest routes are plain Starlette routes: FastAPI's per-request
    # parameter machinery cost more than our own parsing, and the body is read
    # and validated here anyway (size, gzip, text/plain). _document_models
    # puts them in the OpenAPI document.
    async def post_event(request: Request) -> Response:
        state = _state(request)
        parsed: events.EventRequest = _parse(events.single_request, await _body(request, state))
        records = _records([parsed.event], datetime.now(UTC))
        await _produce(state, records)
        return _json({"status": "accepted", "event_id": records[0].event_id})

    async def post_batch(request: Request) -> Response:
        state = _state(request)
        parsed: events.BatchRequest = _parse(events.batch_request, await _body(request, state))
        records = _records(parsed.events, datetime.now(UTC))
        await _produce(state, records)
        return _json({"accepted": len(records), "event_ids": [r.event_id for r in records]})

    app.add_route(SINGLE_PATH, post_event, methods=["POST"])
    app.add_route(BATCH_PATH, post_batch, methods=["POST"])

    @app.get("/healthz", summary="Liveness: the process serves requests")
    async def healthz() -> Response:
        return _json({"status": "ok"})

    @app.get("/readyz", summary="Readiness: the producer can reach Kafka now")
    async def readyz(request: Request) -> Response:
        if _state(request).sink.ready:
            return _json({"status": "ready"})
        return _json({"status": "kafka unavailable"}, 503)

    @app.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    _document_models(app)
    return app


def _document_models(app: FastAPI) -> None:
    """Put the ingest routes and their models into the OpenAPI document."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (
                events.EventRequest,
                events.BatchRequest,
                events.EventAccepted,
                events.BatchAccepted,
            ):
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            schema.setdefault("paths", {}).update(
                {
                    SINGLE_PATH: {
                        "post": _operation(
                            "Accept one event", "post_event", _SINGLE_DOC, events.EventAccepted
                        )
                    },
                    BATCH_PATH: {
                        "post": _operation(
                            "Accept 1 to 500 events, all or nothing",
                            "post_batch",
                            _BATCH_DOC,
                            events.BatchAccepted,
                        )
                    },
                }
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operation(
    summary: str, operation_id: str, body: dict[str, Any], accepted: type[BaseModel]
) -> dict[str, Any]:
    ok = {"$ref": f"#/components/schemas/{accepted.__name__}"}
    responses: dict[str, Any] = {
        "200": {
            "description": "Acknowledged by Kafka",
            "content": {"application/json": {"schema": ok}},
        }
    }
    for status, text in _ERROR_RESPONSES.items():
        responses[str(status)] = {"description": text}
    return {"summary": summary, "operationId": operation_id, **body, "responses": responses}
