"""Slow clients: what bounds a client that sends one byte every few seconds.

Measured against the API as production runs it (gunicorn + uvicorn workers)
with a body read deadline of 2 s; docs/hostile-input.md explains the bounds
and what the ingress adds in Kubernetes.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.hostile.api_process import BODY_READ_TIMEOUT_S, KEEPALIVE_S, ApiProcess
from tests.hostile.corpus import DEADLINE_SLACK_S, SINGLE, VALID, post
from tests.hostile.raw_http import exchange, trickle

TRICKLING_CLIENTS = 20
SILENT_CONNECTIONS = 200
# A normal request among slow clients is answered as fast as without them.
PROMPT_ANSWER_S = 1.0
HEAD = post(VALID)[: -len(VALID)]


def _trickle_body(port: int, interval_s: float) -> tuple[int, float]:
    answer = trickle(port, HEAD, VALID, interval_s=interval_s, timeout_s=BODY_READ_TIMEOUT_S + 10)
    return answer.status, answer.seconds


def _closed_within(sock: socket.socket, timeout_s: float) -> bool:
    """True if the server answers or closes the connection within `timeout_s`."""
    sock.settimeout(timeout_s)
    try:
        sock.recv(65536)
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def _read_response(sock: socket.socket) -> bytes:
    """One whole response (head and Content-Length body), however it was split."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += sock.recv(65536)
    return head


@pytest.mark.parametrize("interval_s", [0.5, 3.0], ids=["byte-every-0.5s", "byte-every-3s"])
def test_trickled_body_gets_408_at_the_read_deadline(api: ApiProcess, interval_s: float) -> None:
    # 0.5 s: every gap is shorter than the deadline, so it is a deadline for
    # the whole body, not an idle timeout a patient client could reset.
    status, seconds = _trickle_body(api.config.port, interval_s)
    assert status == 408
    assert BODY_READ_TIMEOUT_S <= seconds <= BODY_READ_TIMEOUT_S + DEADLINE_SLACK_S, seconds


def test_trickling_clients_do_not_delay_other_requests(api: ApiProcess) -> None:
    port = api.config.port
    with ThreadPoolExecutor(max_workers=TRICKLING_CLIENTS) as pool:
        slow = [pool.submit(_trickle_body, port, 1.0) for _ in range(TRICKLING_CLIENTS)]
        time.sleep(0.5)
        answer = exchange(port, post(VALID), timeout_s=10)
        outcomes = [future.result() for future in slow]
    assert answer.status == 200
    assert answer.seconds < PROMPT_ANSWER_S, answer.seconds
    assert [status for status, _ in outcomes] == [408] * TRICKLING_CLIENTS
    latest = max(seconds for _, seconds in outcomes)
    assert latest <= BODY_READ_TIMEOUT_S + DEADLINE_SLACK_S, latest


def test_silent_connections_do_not_delay_other_requests(api: ApiProcess) -> None:
    # An open connection that sends nothing costs the server a socket, not a
    # worker: requests on other connections are served as usual.
    with contextlib.ExitStack() as held:
        for _ in range(SILENT_CONNECTIONS):
            held.enter_context(socket.create_connection(("127.0.0.1", api.config.port)))
        answer = exchange(api.config.port, post(VALID), timeout_s=10)
    assert answer.status == 200
    assert answer.seconds < PROMPT_ANSWER_S, answer.seconds


def test_idle_keep_alive_connection_is_closed_after_keepalive(api: ApiProcess) -> None:
    keep_alive = post(VALID).replace(b"Connection: close\r\n", b"")
    with socket.create_connection(("127.0.0.1", api.config.port)) as sock:
        sock.sendall(keep_alive)
        sock.settimeout(10)
        # The head and the body may come in two reads: take both before timing.
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        assert _closed_within(sock, KEEPALIVE_S + DEADLINE_SLACK_S)
        assert time.monotonic() - started >= KEEPALIVE_S - 0.5


def test_silent_connection_is_closed(api: ApiProcess) -> None:
    with socket.create_connection(("127.0.0.1", api.config.port)) as sock:
        assert _closed_within(sock, KEEPALIVE_S + DEADLINE_SLACK_S)


def test_trickled_headers_are_cut_off(api: ApiProcess) -> None:
    head = f"POST {SINGLE} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode()
    with socket.create_connection(("127.0.0.1", api.config.port)) as sock:
        sock.sendall(head)
        deadline = time.monotonic() + KEEPALIVE_S + DEADLINE_SLACK_S
        closed = False
        while not closed and time.monotonic() < deadline:
            try:
                sock.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            closed = _closed_within(sock, 1.0)
        assert closed, "the server still waits for the rest of the request head"
