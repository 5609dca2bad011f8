"""The ingest routes in the OpenAPI document.

They are plain Starlette routes (see routes.py), which FastAPI does not
document, so their request models, examples and answers are added here; the
error answers come from the error table.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from clickstream import events
from clickstream.api.errors import ERROR_RESPONSES
from clickstream.api.routes import BATCH_PATH, SINGLE_PATH

_DOCUMENTED_MODELS = (
    events.EventRequest,
    events.BatchRequest,
    events.EventAccepted,
    events.BatchAccepted,
)


def document_ingest_routes(app: FastAPI) -> None:
    """Make `app.openapi()` include the ingest routes and their models."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in _DOCUMENTED_MODELS:
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            schema.setdefault("paths", {}).update(_ingest_paths())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _ingest_paths() -> dict[str, Any]:
    single_examples = {
        name: {"summary": name, "value": {"event": body}} for name, body in events.EXAMPLES.items()
    }
    batch_examples = {
        "mixed": {
            "summary": "one of each type",
            "value": {"events": list(events.EXAMPLES.values())},
        }
    }
    return {
        SINGLE_PATH: {
            "post": _operation(
                "Accept one event",
                "post_event",
                _request_body(events.EventRequest, single_examples),
                events.EventAccepted,
            )
        },
        BATCH_PATH: {
            "post": _operation(
                "Accept 1 to 500 events, all or nothing",
                "post_batch",
                _request_body(events.BatchRequest, batch_examples),
                events.BatchAccepted,
            )
        },
    }


def _request_body(model: type[BaseModel], examples: dict[str, Any]) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "required": True,
        "content": {
            media: {"schema": schema, "examples": examples}
            for media in ("application/json", "text/plain")
        },
    }


def _operation(
    summary: str, operation_id: str, request_body: dict[str, Any], accepted: type[BaseModel]
) -> dict[str, Any]:
    ok = {"$ref": f"#/components/schemas/{accepted.__name__}"}
    responses: dict[str, Any] = {
        "200": {
            "description": "Acknowledged by Kafka",
            "content": {"application/json": {"schema": ok}},
        }
    }
    for entry in ERROR_RESPONSES.values():
        responses[str(entry.status)] = {"description": entry.description}
    return {
        "summary": summary,
        "operationId": operation_id,
        "requestBody": request_body,
        "responses": responses,
    }
