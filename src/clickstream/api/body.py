"""Reading a request body within bounds: size, time, encoding and media type.

Browsers send JSON as `application/json`, or as `text/plain` through
`navigator.sendBeacon`; bodies may be gzip-compressed. Every bound holds after
decompression too, so a gzip bomb costs at most `limit` bytes of memory.
"""

from __future__ import annotations

import asyncio
import zlib

from starlette.requests import ClientDisconnect, Request

from clickstream.errors import BodyTimeout, BodyTooLarge, BrokenBody, UnsupportedMediaType

ACCEPTED_MEDIA_TYPES = frozenset({"application/json", "text/plain"})


def check_media_type(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_MEDIA_TYPES:
        raise UnsupportedMediaType("send JSON as application/json or text/plain")


async def read_body(request: Request, *, limit: int, timeout_s: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise BrokenBody("invalid Content-Length")
        if int(declared) > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
    try:
        body = await _receive(request, limit=limit, timeout_s=timeout_s)
    except ClientDisconnect:
        raise BrokenBody("client disconnected before sending the whole body") from None
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        return gunzip(body, limit=limit)
    if encoding not in ("identity", ""):
        raise UnsupportedMediaType("Content-Encoding must be gzip or identity")
    return body


async def _receive(request: Request, *, limit: int, timeout_s: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await request.receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(f"body larger than {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except TimeoutError:
        raise BodyTimeout(f"body not received within {timeout_s:g}s") from None


def gunzip(data: bytes, *, limit: int) -> bytes:
    """Every gzip member of `data` (RFC 1952 allows several), never more than `limit` bytes."""
    out = bytearray()
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error:
            raise BrokenBody("body is not valid gzip") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise BodyTooLarge(f"decompressed body larger than {limit} bytes")
        if not inflater.eof:
            raise BrokenBody("gzip body is truncated")
        data = inflater.unused_data
        if not data:
            return bytes(out)
