"""A fixed-rate load generator for the real API, and the ledger of what it was told.

Every event carries its own client `event_id`, so the oracle can follow each
one from the answer to ClickHouse. One request in `invalid_every` breaks the
contract on purpose (an empty `country`): it must be rejected and never stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import ssl
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import orjson

from clickstream.events import EXAMPLES

Outcome = Literal["acknowledged", "indeterminate", "rejected", "server_error"]

SINGLE_PATH = "/api/v1/events"
BATCH_PATH = "/api/v1/events/batch"
TICK_S = 0.01
LAG_PROBE_S = 0.1
KEEPALIVE_S = 2.0
# httpcore's trace events this generator times (see `Attempt`).
_HEAD_SENT = "http11.send_request_headers.started"
_CONNECT_STARTED = "connection.connect_tcp.started"
_CONNECTED = "connection.connect_tcp.complete"
_TRACED = frozenset({_HEAD_SENT, _CONNECT_STARTED, _CONNECTED})


@dataclass(frozen=True, slots=True)
class Attempt:
    """One request: its events, when it started and ended (monotonic), what came back."""

    event_ids: tuple[str, ...]
    valid: bool
    started: float
    finished: float
    status: int | None
    # The transport failure's class name when there was no HTTP answer.
    error: str | None = None
    # When the request's head began to go out (after its connect, if it made one).
    sent: float | None = None
    # When this request opened a new TCP connection: when the connect began
    # and when the API's kernel completed it.
    connect_started: float | None = None
    connected: float | None = None

    @property
    def outcome(self) -> Outcome:
        if self.status is None or self.status == 503:
            return "indeterminate"
        if 200 <= self.status < 300:
            return "acknowledged"
        if 400 <= self.status < 500:
            return "rejected"
        return "server_error"

    @property
    def latency_s(self) -> float:
        """From the moment the request went out (its start, if it never did) to the answer."""
        return self.finished - (self.sent if self.sent is not None else self.started)

    @property
    def answer(self) -> str:
        """The status code, or the transport failure, as text."""
        return str(self.status) if self.status is not None else (self.error or "error")


@dataclass
class Ledger:
    attempts: list[Attempt] = field(default_factory=list)

    def events(self, outcome: Outcome | None = None) -> set[str]:
        return {
            event_id
            for attempt in self.attempts
            if outcome is None or attempt.outcome == outcome
            for event_id in attempt.event_ids
        }

    def between(self, start: float, end: float = float("inf")) -> list[Attempt]:
        """Attempts started within [start, end) (monotonic seconds)."""
        return [a for a in self.attempts if start <= a.started < end]

    @staticmethod
    def answers(attempts: Iterable[Attempt]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for attempt in attempts:
            counts[attempt.answer] = counts.get(attempt.answer, 0) + 1
        return dict(sorted(counts.items()))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class EventFactory:
    """Valid events of every type, spread over many users (so over both shards)."""

    def __init__(self, tag: str, users: int = 997) -> None:
        self._tag = tag
        self._users = users
        self._kinds = itertools.cycle(sorted(EXAMPLES))
        self._serial = itertools.count()

    def make(self, *, valid: bool = True) -> dict[str, Any]:
        n = next(self._serial)
        body = dict(EXAMPLES[next(self._kinds)])
        body["event_id"] = str(uuid.uuid4())
        body["timestamp"] = datetime.now(UTC).isoformat()
        # Every seventh event is anonymous: those are sharded by event_id.
        body["user_id"] = None if n % 7 == 0 else f"{self._tag}-user-{n % self._users}"
        body["device"] = self._tag
        if not valid:
            body["country"] = ""
        return body


def _release(
    free: asyncio.LifoQueue[httpx.AsyncClient], client: httpx.AsyncClient, _: object
) -> None:
    free.put_nowait(client)


class LoadGenerator:
    """Sends `rate` events/s until stopped, at most `concurrency` requests at a time.

    When every slot is taken (the API is slow) the schedule waits instead of
    queueing without bound: the ledger shows what was really sent and when.
    """

    def __init__(
        self,
        api_url: str,
        *,
        rate: float,
        tag: str,
        batch_size: int = 1,
        invalid_every: int = 50,
        concurrency: int = 256,
        timeout_s: float = 10.0,
    ) -> None:
        self.ledger = Ledger()
        # How late the generator's own event loop woke up, at worst: an answer
        # seen late while the loop was late was measured late, not answered late.
        self.max_loop_lag_s = 0.0
        self._api_url = api_url
        self._requests_per_s = rate / batch_size
        self._batch_size = batch_size
        self._invalid_every = invalid_every
        self._concurrency = concurrency
        self.timeout_s = timeout_s
        self._events = EventFactory(tag)

    async def run(self, stop: asyncio.Event) -> Ledger:
        # One client of one connection per slot, each used by one request at a
        # time, like as many browsers. A shared pool queues requests in the
        # generator itself: with 16 connections per pool, requests started
        # before kafka-leader-down's kill waited 5.1-5.8 s in httpcore's pool
        # (their connect, when they made one, took 0.1 s) and then counted as
        # unanswered within 10 s, though the API answered them within 5.2 s.
        # Idle connections are dropped before gunicorn's keep-alive (5 s) closes
        # them: a request on a connection the server is closing fails with no
        # answer, an artefact of the client that would pass for a hang.
        limits = httpx.Limits(
            max_connections=1, max_keepalive_connections=1, keepalive_expiry=KEEPALIVE_S
        )
        # One TLS context for all: httpx would build one per client (the API is
        # plain HTTP here, but building hundreds costs seconds of CPU).
        tls = ssl.create_default_context()
        lag_probe = asyncio.create_task(self._watch_loop_lag(stop))
        in_flight: set[asyncio.Task[None]] = set()
        async with contextlib.AsyncExitStack() as stack:
            # Last in, first out: the clients used most recently keep their
            # connection alive, the rest expire, as with one pool.
            free: asyncio.LifoQueue[httpx.AsyncClient] = asyncio.LifoQueue()
            for _ in range(self._concurrency):
                free.put_nowait(
                    await stack.enter_async_context(
                        httpx.AsyncClient(
                            base_url=self._api_url,
                            limits=limits,
                            timeout=self.timeout_s,
                            verify=tls,
                        )
                    )
                )
            started = time.monotonic()
            launched = 0
            while not stop.is_set():
                due = int((time.monotonic() - started) * self._requests_per_s)
                while launched < due and not stop.is_set():
                    client = await free.get()
                    valid = self._invalid_every <= 0 or launched % self._invalid_every != 1
                    task = asyncio.create_task(self._send(client, valid))
                    task.add_done_callback(functools.partial(_release, free, client))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    launched += 1
                await asyncio.sleep(TICK_S)
            if in_flight:
                await asyncio.wait(in_flight)
        await lag_probe
        return self.ledger

    async def _watch_loop_lag(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            before = time.monotonic()
            await asyncio.sleep(LAG_PROBE_S)
            lag = time.monotonic() - before - LAG_PROBE_S
            self.max_loop_lag_s = max(self.max_loop_lag_s, lag)

    async def _send(self, client: httpx.AsyncClient, valid: bool) -> None:
        events = [self._events.make(valid=valid) for _ in range(self._batch_size)]
        if self._batch_size == 1:
            path, body = SINGLE_PATH, orjson.dumps({"event": events[0]})
        else:
            path, body = BATCH_PATH, orjson.dumps({"events": events})
        ids = tuple(e["event_id"] for e in events)
        begun = time.monotonic()
        marks: dict[str, float] = {}

        async def trace(event: str, info: object) -> None:
            if event in _TRACED:
                marks.setdefault(event, time.monotonic())

        status: int | None = None
        error: str | None = None
        try:
            # httpx's timeout bounds each phase (connect, write, read) on its
            # own; a request as a whole gets `timeout_s`.
            async with asyncio.timeout(self.timeout_s):
                response = await client.post(
                    path,
                    content=body,
                    headers={"Content-Type": "application/json"},
                    extensions={"trace": trace},
                )
            status = response.status_code
        except TimeoutError:
            error = "Timeout"
        except httpx.HTTPError as failure:
            error = type(failure).__name__
        self.ledger.attempts.append(
            Attempt(
                ids,
                valid,
                begun,
                time.monotonic(),
                status,
                error,
                sent=marks.get(_HEAD_SENT),
                connect_started=marks.get(_CONNECT_STARTED),
                connected=marks.get(_CONNECTED),
            )
        )
