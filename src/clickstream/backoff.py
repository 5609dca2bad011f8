"""One backoff for every retry loop: capped, jittered, and stop-aware.

Hand-written rather than tenacity: each loop here must give up the moment a
`StopSignal` says so (a rebalance needs the partitions back now) or once a
deadline passes (a SIGTERM leaves a grace period to drain), and be woken
early from its sleep when that happens. With tenacity that is a custom stop,
a custom sleep and a custom retry predicate around 40 lines of our own; the
loop itself is 20 lines, so the dependency would buy nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class GaveUp(Exception):
    """A retry loop stopped because its `StopSignal` fired; the cause is chained."""


class StopSignal:
    """When retry loops must give up: now, or at a deadline; wakes their sleeps."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._deadline = float("inf")
        self._changed = asyncio.Event()

    def set(self, *, grace_s: float = 0.0) -> None:
        """Give up `grace_s` from now (never later than an earlier deadline)."""
        self._deadline = min(self._deadline, self._clock() + grace_s)
        self._wake()

    def reset(self, deadline: float = float("inf")) -> None:
        self._deadline = deadline
        self._wake()

    @property
    def deadline(self) -> float:
        return self._deadline

    @property
    def fired(self) -> bool:
        return self._clock() >= self._deadline

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds`, at most until the deadline; return early when it changes."""
        seconds = min(seconds, max(0.0, self._deadline - self._clock()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout=seconds)

    def _wake(self) -> None:
        # Each sleeper holds the event it started on: set it once, hand out a
        # fresh one, so a signal with a distant deadline does not make later
        # sleeps return at once (a hot retry loop).
        self._changed.set()
        self._changed = asyncio.Event()


class Backoff:
    """Exponential delays from `initial_s`, capped at `max_s`, each drawn in [50%, 100%].

    The jitter keeps many consumers that failed together from retrying in step.
    """

    def __init__(
        self, initial_s: float, max_s: float, *, uniform: Callable[[], float] = random.random
    ) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self._uniform = uniform

    def delay_s(self, attempt: int) -> float:
        """The pause after failed attempt number `attempt` (0 for the first failure)."""
        ceiling = min(self.max_s, self.initial_s * 2.0 ** min(attempt, 64))
        return ceiling * (0.5 + 0.5 * self._uniform())

    async def retry(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        retry_on: tuple[type[BaseException], ...],
        stop: StopSignal,
        on_error: Callable[[BaseException, int], None] | None = None,
    ) -> T:
        """`attempt()` until it returns; raises `GaveUp` once `stop` has fired.

        `on_error(error, failures)` sees every failure, and may raise to end
        the loop with its own verdict (an error not worth retrying).
        """
        failures = 0
        while True:
            try:
                return await attempt()
            except retry_on as error:
                failures += 1
                if on_error is not None:
                    on_error(error, failures)
                if stop.fired:
                    raise GaveUp(str(error)) from error
                await stop.sleep(self.delay_s(failures - 1))
                if stop.fired:
                    raise GaveUp(str(error)) from error
