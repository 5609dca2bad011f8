"""Reading the body within bounds: media type, size, gzip, time."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from starlette.requests import Request
from starlette.types import Message

from clickstream.api.body import check_media_type, gunzip, read_body
from clickstream.api.errors import status_of
from clickstream.config import ApiSettings, Settings
from clickstream.errors import Rejected
from clickstream.events import EXAMPLES

from .conftest import Serve
from .fake_sink import FakeSink

SINGLE = "/api/v1/events"
VALID = orjson.dumps({"event": EXAMPLES["click"]})
LIMIT = 4096


def small(limit: int = LIMIT) -> Settings:
    return Settings(api=ApiSettings(max_body_bytes=limit))


def padded(size: int) -> bytes:
    """A valid single-event body of exactly `size` bytes (JSON allows trailing spaces)."""
    assert len(VALID) <= size
    return VALID + b" " * (size - len(VALID))


# -- through the API -------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "text/plain",
        "text/plain;charset=UTF-8",
        None,
    ],
)
async def test_json_and_beacon_media_types_are_accepted(
    client: httpx.AsyncClient, sink: FakeSink, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}

    response = await client.post(SINGLE, content=VALID, headers=headers)

    assert response.request.headers.get("content-type") == content_type
    assert response.status_code == 200
    assert len(sink.records) == 1


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", ""],
)
async def test_other_media_types_are_refused_with_415(
    client: httpx.AsyncClient, sink: FakeSink, content_type: str
) -> None:
    response = await client.post(SINGLE, content=VALID, headers={"content-type": content_type})

    assert response.status_code == 415
    assert isinstance(response.json()["detail"], str)
    assert sink.sent == []


@pytest.mark.parametrize("encoding", ["gzip", "GZIP", " gzip "])
async def test_gzip_body_is_accepted(
    client: httpx.AsyncClient, sink: FakeSink, encoding: str
) -> None:
    response = await client.post(
        SINGLE, content=gzip.compress(VALID), headers={"content-encoding": encoding}
    )

    assert response.status_code == 200
    assert sink.records[0].event_type == "click"


@pytest.mark.parametrize("encoding", ["identity", ""])
async def test_identity_encoding_is_accepted(
    client: httpx.AsyncClient, sink: FakeSink, encoding: str
) -> None:
    response = await client.post(SINGLE, content=VALID, headers={"content-encoding": encoding})

    assert response.status_code == 200
    assert len(sink.records) == 1


async def test_gzip_bomb_is_refused_with_413(serve: Serve, sink: FakeSink) -> None:
    bomb = gzip.compress(VALID + b" " * (2 * 1024 * 1024))
    assert len(bomb) < LIMIT

    async with serve(small()) as client:
        response = await client.post(SINGLE, content=bomb, headers={"content-encoding": "gzip"})

    assert response.status_code == 413
    assert sink.sent == []


@pytest.mark.parametrize(("size", "status"), [(LIMIT, 200), (LIMIT + 1, 413)])
async def test_body_limit_is_inclusive(
    serve: Serve, sink: FakeSink, size: int, status: int
) -> None:
    async with serve(small()) as client:
        response = await client.post(SINGLE, content=padded(size))

    assert response.status_code == status
    assert len(sink.sent) == (1 if status == 200 else 0)


@pytest.mark.parametrize(("size", "status"), [(LIMIT, 200), (LIMIT + 1, 413)])
async def test_decompressed_limit_is_inclusive(
    serve: Serve, sink: FakeSink, size: int, status: int
) -> None:
    async with serve(small()) as client:
        response = await client.post(
            SINGLE, content=gzip.compress(padded(size)), headers={"content-encoding": "gzip"}
        )

    assert response.status_code == status
    assert len(sink.sent) == (1 if status == 200 else 0)


async def test_streamed_body_over_the_limit_is_refused_without_content_length(
    serve: Serve, sink: FakeSink
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1024
        yield VALID

    async with serve(small()) as client:
        response = await client.post(SINGLE, content=chunks())

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert sink.sent == []


async def test_streamed_body_within_the_limit_is_accepted(serve: Serve, sink: FakeSink) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield VALID[:10]
        yield VALID[10:]

    async with serve(small()) as client:
        response = await client.post(SINGLE, content=chunks())

    assert response.status_code == 200
    assert len(sink.records) == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not gzip at all", id="not-gzip"),
        pytest.param(zlib.compress(VALID), id="zlib-not-gzip"),
        pytest.param(gzip.compress(VALID)[:-12], id="truncated"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_invalid_gzip_is_refused_with_400(
    client: httpx.AsyncClient, sink: FakeSink, body: bytes
) -> None:
    response = await client.post(SINGLE, content=body, headers={"content-encoding": "gzip"})

    assert response.status_code == 400
    assert sink.sent == []


@pytest.mark.parametrize("encoding", ["br", "deflate", "compress", "gzip, gzip", "zstd"])
async def test_unknown_content_encoding_is_refused_with_415(
    client: httpx.AsyncClient, sink: FakeSink, encoding: str
) -> None:
    response = await client.post(SINGLE, content=VALID, headers={"content-encoding": encoding})

    assert response.status_code == 415
    assert sink.sent == []


# -- read_body and gunzip on their own ---------------------------------------------


def request(headers: dict[str, str], messages: list[Message]) -> Request:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    scope = {
        "type": "http",
        "method": "POST",
        "path": SINGLE,
        "query_string": b"",
        "headers": [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ],
    }
    return Request(scope, receive)


def body_message(body: bytes, *, more: bool = False) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


async def test_read_body_joins_the_chunks() -> None:
    got = await read_body(
        request({}, [body_message(b"ab", more=True), body_message(b"cd")]), limit=4, timeout_s=1
    )

    assert got == b"abcd"


async def test_read_body_refuses_a_declared_length_over_the_limit_before_reading() -> None:
    never_sent = request({"content-length": "5"}, [])

    with pytest.raises(Rejected) as error:
        await read_body(never_sent, limit=4, timeout_s=1)

    assert status_of(error.value) == 413


@pytest.mark.parametrize("declared", ["abc", "-1", "1.5", " "])
async def test_read_body_refuses_an_invalid_content_length(declared: str) -> None:
    with pytest.raises(Rejected) as error:
        await read_body(request({"content-length": declared}, []), limit=4, timeout_s=1)

    assert status_of(error.value) == 400


async def test_read_body_refuses_a_non_ascii_digit_content_length() -> None:
    with pytest.raises(Rejected) as error:
        await read_body(request({"content-length": "\xb2"}, []), limit=4, timeout_s=1)

    assert status_of(error.value) == 400


async def test_read_body_refuses_a_body_longer_than_declared_and_over_the_limit() -> None:
    lying = request({"content-length": "1"}, [body_message(b"ab", more=True), body_message(b"cde")])

    with pytest.raises(Rejected) as error:
        await read_body(lying, limit=4, timeout_s=1)

    assert status_of(error.value) == 413


async def test_read_body_gives_408_to_a_client_too_slow_to_send() -> None:
    trickle = request({}, [body_message(b"a", more=True)])

    with pytest.raises(Rejected) as error:
        await read_body(trickle, limit=4, timeout_s=0.05)

    assert status_of(error.value) == 408


async def test_read_body_gives_400_when_the_client_disconnects() -> None:
    gone = request({}, [body_message(b"a", more=True), {"type": "http.disconnect"}])

    with pytest.raises(Rejected) as error:
        await read_body(gone, limit=4, timeout_s=1)

    assert status_of(error.value) == 400


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        (None, True),
        ("application/json", True),
        ("text/plain; charset=utf-8", True),
        (" TEXT/PLAIN ", True),
        ("application/x-www-form-urlencoded", False),
        ("application/jsonx", False),
        ("text/html", False),
    ],
)
def test_check_media_type(content_type: str | None, accepted: bool) -> None:
    headers = {} if content_type is None else {"content-type": content_type}

    if accepted:
        check_media_type(request(headers, []))
    else:
        with pytest.raises(Rejected) as error:
            check_media_type(request(headers, []))
        assert status_of(error.value) == 415


@pytest.mark.parametrize("size", [0, 1, 100])
def test_gunzip_round_trips_up_to_the_limit(size: int) -> None:
    data = bytes(range(256)) * 2
    data = data[:size]

    assert gunzip(gzip.compress(data), limit=100) == data


@pytest.mark.parametrize("size", [101, 10_000_000])
def test_gunzip_refuses_output_over_the_limit(size: int) -> None:
    with pytest.raises(Rejected) as error:
        gunzip(gzip.compress(b"\0" * size), limit=100)

    assert status_of(error.value) == 413


def test_gunzip_does_not_silently_drop_data_after_the_first_member() -> None:
    body = gzip.compress(b'{"a": 1}') + gzip.compress(b' {"b": 2}')

    try:
        decoded = gunzip(body, limit=100)
    except Rejected as error:
        assert status_of(error) == 400
    else:
        assert decoded == b'{"a": 1} {"b": 2}'
