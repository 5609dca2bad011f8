"""HTTP/1.1 spoken byte by byte, for requests that httpx would refuse or tidy up.

httpx (and http.client) fix a lying Content-Length, re-encode headers and
refuse to send half a body; hostile clients do none of that, so these
requests are written to the socket exactly as given.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


class NoResponse(AssertionError):
    """The server closed the connection or stayed silent without a status line."""


def request_bytes(
    method: str,
    path: str,
    headers: Iterable[tuple[str, str | bytes]] = (),
    body: bytes = b"",
) -> bytes:
    """The bytes of one request: these headers, `Host` and `Connection: close`, nothing else."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    for name, value in headers:
        lines.append(
            name.encode() + b": " + (value if isinstance(value, bytes) else value.encode())
        )
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def chunked(body: bytes, chunk_size: int = 64 * 1024) -> bytes:
    """`body` in Transfer-Encoding: chunked framing, terminated."""
    parts = [
        b"%x\r\n%s\r\n" % (len(piece), piece)
        for piece in (body[i : i + chunk_size] for i in range(0, len(body), chunk_size))
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def exchange(
    port: int,
    data: bytes,
    *,
    timeout_s: float = 30.0,
) -> RawResponse:
    """Send `data` and read one response.

    Our side stays open after sending (uvicorn closes a half-closed connection
    without answering, and a client that promised more body than it sent
    would not close either). The server may answer and close before it read
    everything: a broken pipe while sending still leaves a response to read.
    """
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        raw = read_until_close(sock, deadline=started + timeout_s)
    return parse_response(raw, time.monotonic() - started)


def trickle(
    port: int, head: bytes, body: bytes, *, interval_s: float, timeout_s: float
) -> RawResponse:
    """Send `head` and the first body byte, then one more byte every `interval_s`.

    Stops sending as soon as the server answers; `seconds` counts from the
    first body byte, which is when the server's read deadline starts.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(head + body[:1])
        started = time.monotonic()
        deadline = started + timeout_s
        for index in range(1, len(body) + 1):
            readable, _, _ = select.select([sock], [], [], interval_s)
            if readable or time.monotonic() > deadline:
                break
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(body[index : index + 1])
        raw = read_until_close(sock, deadline=deadline)
    return parse_response(raw, time.monotonic() - started)


def read_until_close(sock: socket.socket, *, deadline: float) -> bytes:
    """Everything up to one complete response, the server's close, or `deadline`."""
    received = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoResponse(f"no complete response in time; got {bytes(received[:200])!r}")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
        if _complete(received):
            break
    return bytes(received)


def _complete(received: bytearray) -> bool:
    head, sep, body = bytes(received).partition(b"\r\n\r\n")
    if not sep:
        return False
    headers = _headers(head)
    if "content-length" in headers:
        return len(body) >= int(headers["content-length"])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return body.endswith(b"0\r\n\r\n")
    return False


def _headers(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return headers


def parse_response(raw: bytes, seconds: float) -> RawResponse:
    head, sep, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    parts = status_line.split(b" ", 2)
    if not sep or len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise NoResponse(f"no HTTP response; got {raw[:200]!r}")
    headers = _headers(head)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _unchunk(body)
    return RawResponse(int(parts[1]), headers, body, seconds)


def _unchunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)
