"""/openapi.json is the document main served before the API was split into modules.

openapi_main.json was captured from main at 610e527 (`GET /openapi.json`) and
again when envelope v2 added sent_at, the identity fields and three event types,
and when write keys added the 401 and integer bounds became JSON Schema minimum/maximum;
if the contract changes on purpose, capture it again and say so in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

BEFORE: dict[str, Any] = json.loads((Path(__file__).parent / "openapi_main.json").read_text())


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    return served


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def test_the_same_paths_and_methods(document: dict[str, Any]) -> None:
    assert sorted(operations(document)) == sorted(operations(BEFORE))


def test_the_same_request_examples(document: dict[str, Any]) -> None:
    def examples(doc: dict[str, Any]) -> dict[str, Any]:
        return {
            name: {
                media: content.get("examples")
                for media, content in operation["requestBody"]["content"].items()
            }
            for name, operation in operations(doc).items()
            if "requestBody" in operation
        }

    assert examples(BEFORE), "the captured document has request examples"
    assert examples(document) == examples(BEFORE)


def test_the_same_response_codes_and_descriptions(document: dict[str, Any]) -> None:
    def responses(doc: dict[str, Any]) -> dict[str, dict[str, str]]:
        return {
            name: {code: answer["description"] for code, answer in operation["responses"].items()}
            for name, operation in operations(doc).items()
        }

    assert responses(document) == responses(BEFORE)


def test_the_same_document(document: dict[str, Any]) -> None:
    assert document == BEFORE
