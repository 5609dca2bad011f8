"""The one table from an error to its HTTP answer, and the one handler that uses it.

Raise sites (body.py, routes.py, the producer) name what went wrong; only this
table says which status that is. The OpenAPI document lists the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from clickstream.api.routes import json_response
from clickstream.api.state import api_state
from clickstream.errors import (
    BodyTimeout,
    BodyTooLarge,
    BrokenBody,
    InvalidEvent,
    Rejected,
    Unavailable,
    UnknownWriteKey,
    UnsupportedMediaType,
)


@dataclass(frozen=True)
class ErrorResponse:
    status: int
    description: str  # for the OpenAPI document


ERROR_RESPONSES: dict[type[Exception], ErrorResponse] = {
    BrokenBody: ErrorResponse(400, "Broken body (invalid gzip, Content-Length, disconnect)"),
    UnknownWriteKey: ErrorResponse(401, "No known write key (only when write keys are configured)"),
    BodyTimeout: ErrorResponse(408, "The body did not arrive within the read deadline"),
    BodyTooLarge: ErrorResponse(413, "Body larger than the limit (also after decompression)"),
    UnsupportedMediaType: ErrorResponse(415, "Unsupported Content-Type or Content-Encoding"),
    InvalidEvent: ErrorResponse(422, "The body does not match the contract"),
    Unavailable: ErrorResponse(503, "Kafka could not acknowledge in time; retry after Retry-After"),
}


def status_of(error: Exception) -> int | None:
    """The HTTP status for `error`, or None for an error that should never reach HTTP."""
    entry = ERROR_RESPONSES.get(type(error))
    return None if entry is None else entry.status


async def error_response(request: Request, error: Exception) -> Response:
    """`{"detail": ...}` with the table's status; a 503 also says when to retry."""
    entry = ERROR_RESPONSES.get(type(error))
    if isinstance(error, Rejected) and entry is not None:
        api_state(request).metrics.events_rejected.labels(str(entry.status)).inc()
        return json_response({"detail": error.detail}, entry.status)
    if isinstance(error, Unavailable) and entry is not None:
        state = api_state(request)
        state.metrics.unavailable.inc()
        retry_after = {"Retry-After": str(state.settings.api.retry_after_s)}
        return json_response({"detail": error.reason}, entry.status, retry_after)
    # Not in the table (a PoisonRecord, a bare Rejected): a bug, and the 500 it becomes.
    raise error
