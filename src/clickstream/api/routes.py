"""The ingest routes (one event, a batch) and the health and metrics routes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clickstream import events
from clickstream.api.body import check_media_type, read_body
from clickstream.api.state import ApiState, api_state
from clickstream.errors import ErrorList, InvalidEvent, UnknownWriteKey

SINGLE_PATH = "/api/v1/events"
BATCH_PATH = "/api/v1/events/batch"
MAX_REPORTED_ERRORS = 50
MAX_ECHOED_INPUT = 256

Model = TypeVar("Model")


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


# The two ingest routes are plain Starlette routes: FastAPI's per-request
# parameter machinery (dependency solving) cost about a quarter of a request's
# CPU, more than our own parsing, and the body is read and validated here anyway
# (size, gzip, text/plain). Do not turn them into FastAPI routes without a
# benchmark that says otherwise. openapi.py puts them in the OpenAPI document.


def _admitted(request: Request) -> ApiState:
    state = api_state(request)
    # Off by default: then the query string is not even parsed.
    if state.write_keys.enabled and not state.write_keys.allows(
        request.headers, request.query_params
    ):
        raise UnknownWriteKey(
            [
                {
                    "type": "write_key",
                    "loc": ["header", "x-clickstream-key"],
                    "msg": "a known write key is required",
                }
            ]
        )
    return state


async def post_event(request: Request) -> Response:
    state = _admitted(request)
    parsed = _parse(events.single_request, await _body(request, state))
    records = _records(request, state, parsed)
    await _produce(state, records)
    return json_response({"status": "accepted", "event_id": records[0].event_id})


async def post_batch(request: Request) -> Response:
    state = _admitted(request)
    parsed = _parse(events.batch_request, await _body(request, state))
    records = _records(request, state, parsed)
    await _produce(state, records)
    return json_response({"accepted": len(records), "event_ids": [r.event_id for r in records]})


INGEST_ROUTES = (
    Route(SINGLE_PATH, post_event, methods=["POST"]),
    Route(BATCH_PATH, post_batch, methods=["POST"]),
)

health = APIRouter()


@health.get("/healthz", summary="Liveness: the process serves requests")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@health.get("/readyz", summary="Readiness: the producer can reach Kafka now")
async def readyz(request: Request) -> Response:
    if api_state(request).sink.ready:
        return json_response({"status": "ready"})
    return json_response({"status": "kafka unavailable"}, 503)


@health.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def prometheus(request: Request) -> Response:
    metrics = api_state(request).metrics
    return Response(metrics.render(), media_type="text/plain; version=0.0.4")


async def _body(request: Request, state: ApiState) -> bytes:
    check_media_type(request)
    api = state.settings.api
    return await read_body(request, limit=api.max_body_bytes, timeout_s=api.body_read_timeout_s)


def _parse(adapter: TypeAdapter[Model], body: bytes) -> Model:
    try:
        return adapter.validate_json(body)
    except ValidationError as error:
        raise InvalidEvent(_validation_detail(error)) from None


def _validation_detail(error: ValidationError) -> ErrorList:
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


def _records(
    request: Request, state: ApiState, parsed: events.EventRequest | events.BatchRequest
) -> list[events.Record]:
    return events.records_for(
        parsed,
        received_at=datetime.now(UTC),
        user_agent=request.headers.get("user-agent"),
        time_policy=state.settings.api.time_policy,
    )


async def _produce(state: ApiState, records: list[events.Record]) -> None:
    await state.sink.send(records)
    if len(records) == 1:
        state.metrics.accepted(records[0].event_type).inc()
    else:
        for event_type, count in Counter(r.event_type for r in records).items():
            state.metrics.accepted(event_type).inc(count)
