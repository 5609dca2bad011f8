"""Requests held in flight on purpose, and which server process holds each one.

The load's requests take milliseconds, so at the moment a signal arrives
hardly any is in flight, and a graceful shutdown that dropped them would go
unseen. A `HeldRequest` sends its head and half its body, waits, and sends the
rest only when told: the server has begun it and must finish it, whatever
signal came meanwhile. Raw sockets rather than httpx: the scenario needs the
connection's own port to find, through /proc, the process that accepted it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import orjson

from tests.chaos.load import SINGLE_PATH, Attempt, EventFactory

ANSWER_TIMEOUT_S = 15.0


class HeldRequest:
    """One POST of one valid event whose body is delivered in two halves."""

    def __init__(self, events: EventFactory) -> None:
        event = events.make()
        self.event_id: str = event["event_id"]
        self._body = orjson.dumps({"event": event})
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.started = 0.0
        self.local_port = 0

    async def begin(self, host: str, port: int) -> None:
        """Connect and send the head and the first half of the body."""
        self.started = time.monotonic()
        self._reader, self._writer = await asyncio.open_connection(host, port)
        self.local_port = self._writer.get_extra_info("sockname")[1]
        head = (
            f"POST {SINGLE_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nConnection: close\r\n"
            f"Content-Length: {len(self._body)}\r\n\r\n"
        ).encode()
        self._writer.write(head + self._body[: len(self._body) // 2])
        await self._writer.drain()

    async def finish(self) -> Attempt:
        """Send the rest and read the answer; the outcome as the load generator records it."""
        assert self._reader is not None and self._writer is not None
        status: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                self._writer.write(self._body[len(self._body) // 2 :])
                await self._writer.drain()
                answer = await self._reader.read()
            # "HTTP/1.1 200 OK": nothing else of the answer matters here.
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
            error = None if status is not None else "no HTTP answer"
        except TimeoutError:
            error = "Timeout"
        except OSError as failure:
            error = type(failure).__name__
        finally:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        return Attempt((self.event_id,), True, self.started, time.monotonic(), status, error)


def holder(local_port: int, server_port: int, candidates: list[int]) -> int | None:
    """Which of `candidates` (pids) holds the server side of the connection from `local_port`."""
    inode = _server_socket_inode(local_port, server_port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in candidates:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if fd.readlink().as_posix() == target:
                        return pid
    return None


def _server_socket_inode(client_port: int, server_port: int) -> str | None:
    """The inode of the accepted socket 127.0.0.1:server_port <- 127.0.0.1:client_port."""
    local = f"0100007F:{server_port:04X}"
    remote = f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    return None
