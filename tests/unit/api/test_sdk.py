"""Serving the tracker bundle, on a tiny Starlette app; and the bundle is not stale."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from clickstream.api.sdk import (
    CACHE_CONTROL,
    SDK_PATH,
    Bundle,
    accepts_gzip,
    matches,
    sdk_route,
)

ROOT = Path(__file__).resolve().parents[3]
BUNDLE = ROOT / "src/clickstream/api/static/clickstream.js"
IDENTITY = {"accept-encoding": "identity"}
GZIP = {"accept-encoding": "gzip, deflate, br"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(Starlette(routes=[sdk_route()]))


def test_serves_the_committed_bundle(client: TestClient) -> None:
    response = client.get(SDK_PATH, headers=IDENTITY)

    assert response.status_code == 200
    assert response.content == BUNDLE.read_bytes()
    assert response.headers["content-type"] == "application/javascript; charset=utf-8"
    assert response.headers["cache-control"] == CACHE_CONTROL == "public, max-age=3600"
    assert "content-encoding" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_etag_is_strong_and_a_hash_of_the_bytes(client: TestClient) -> None:
    etag = client.get(SDK_PATH, headers=IDENTITY).headers["etag"]

    assert etag == f'"{hashlib.sha256(BUNDLE.read_bytes()).hexdigest()[:32]}"'
    assert Bundle.of(b"other bytes").identity_etag != etag


def test_gzip_when_accepted_with_its_own_etag(client: TestClient) -> None:
    plain = client.get(SDK_PATH, headers=IDENTITY)
    zipped = client.get(SDK_PATH, headers=GZIP)

    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decodes it
    assert int(zipped.headers["content-length"]) < len(plain.content)
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert zipped.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert not zipped.headers["etag"].startswith("W/")


@pytest.mark.parametrize("headers", [IDENTITY, GZIP])
def test_304_when_the_etag_matches(client: TestClient, headers: dict[str, str]) -> None:
    etag = client.get(SDK_PATH, headers=headers).headers["etag"]

    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(SDK_PATH, headers={**headers, "if-none-match": if_none_match})
        assert response.status_code == 304, if_none_match
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == CACHE_CONTROL


def test_200_when_the_etag_is_another_representations(client: TestClient) -> None:
    identity_etag = client.get(SDK_PATH, headers=IDENTITY).headers["etag"]

    response = client.get(SDK_PATH, headers={**GZIP, "if-none-match": identity_etag})
    stale = client.get(SDK_PATH, headers={**IDENTITY, "if-none-match": '"0123"'})

    assert response.status_code == 200
    assert stale.status_code == 200


def test_head_and_other_methods(client: TestClient) -> None:
    assert client.head(SDK_PATH).status_code == 200
    assert client.post(SDK_PATH).status_code == 405


@pytest.mark.parametrize(
    ("accept_encoding", "expected"),
    [
        ("gzip", True),
        ("GZIP;q=0.5", True),
        ("br, gzip; q=1", True),
        ("*", True),
        ("x-gzip", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *", False),
        ("*;q=0", False),
        ("gzip;q=bogus", False),
    ],
)
def test_accepts_gzip(accept_encoding: str, expected: bool) -> None:
    assert accepts_gzip(accept_encoding) is expected


def test_matches() -> None:
    assert matches('"a"', '"a"')
    assert matches(' W/"a" ', '"a"')
    assert not matches("", '"a"')
    assert not matches('"a-gzip"', '"a"')


def test_the_committed_bundle_is_built_from_the_sources() -> None:
    """clients/js changed without `make sdk`: the served bundle would be stale."""
    inputs = (ROOT / "src/clickstream/api/static/clickstream.js.inputs").read_text()
    listed = {}
    for line in inputs.splitlines():
        digest, path = line.split("  ", 1)
        listed[path] = digest
    sources = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "clients/js/src").iterdir()
        if path.is_file()
    }

    built_from = {path for path in listed if path.startswith("clients/js/src/")}
    assert built_from == sources, (
        "tracker sources added or removed: run make sdk, commit the bundle"
    )
    for path, digest in listed.items():
        actual = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
        assert actual == digest, f"{path} changed: run make sdk and commit the bundle"


def test_the_gzip_representation_is_deterministic() -> None:
    body = BUNDLE.read_bytes()

    assert Bundle.of(body).gzipped == Bundle.of(body).gzipped
    assert gzip.decompress(Bundle.of(body).gzipped) == body
