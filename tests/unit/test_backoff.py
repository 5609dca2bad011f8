"""The one backoff: capped, jittered, and it gives up when told to."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from clickstream.backoff import Backoff, GaveUp, StopSignal


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(0, 0.1), (1, 0.2), (3, 0.8), (5, 2.0), (500, 2.0)]
)
def test_delays_double_up_to_the_cap(attempt: int, ceiling: float) -> None:
    highest = Backoff(0.1, 2.0, uniform=lambda: 1.0)
    lowest = Backoff(0.1, 2.0, uniform=lambda: 0.0)

    assert highest.delay_s(attempt) == pytest.approx(ceiling)
    assert lowest.delay_s(attempt) == pytest.approx(ceiling / 2)


def test_delays_are_jittered() -> None:
    backoff = Backoff(1.0, 1.0, uniform=random.Random(7).random)

    delays = {backoff.delay_s(4) for _ in range(50)}

    assert len(delays) == 50
    assert all(0.5 <= delay <= 1.0 for delay in delays)


async def test_retry_returns_once_the_attempt_succeeds_and_reports_each_failure() -> None:
    calls: list[int] = []
    seen: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("not yet")
        return "done"

    result = await Backoff(0.001, 0.001).retry(
        attempt, retry_on=(OSError,), stop=StopSignal(), on_error=lambda e, n: seen.append(n)
    )

    assert result == "done"
    assert seen == [1, 2]


async def test_an_error_not_retried_ends_the_loop() -> None:
    async def attempt() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await Backoff(0.001, 0.001).retry(attempt, retry_on=(OSError,), stop=StopSignal())


async def test_a_stop_wakes_the_sleep_and_gives_up() -> None:
    stop = StopSignal()
    failures = 0

    async def attempt() -> None:
        nonlocal failures
        failures += 1
        raise OSError("down")

    retrying = asyncio.create_task(
        Backoff(30.0, 30.0).retry(attempt, retry_on=(OSError,), stop=stop)
    )
    await asyncio.sleep(0.01)
    started = time.monotonic()

    stop.set()

    with pytest.raises(GaveUp):
        await asyncio.wait_for(retrying, timeout=10)
    assert time.monotonic() - started < 5.0  # far below the 30 s sleep, with room for a loaded CI
    assert failures == 1


async def test_a_grace_period_lets_retries_go_on_until_the_deadline() -> None:
    stop = StopSignal()
    failures = 0

    async def attempt() -> None:
        nonlocal failures
        failures += 1
        raise OSError("down")

    stop.set(grace_s=0.1)
    started = time.monotonic()
    with pytest.raises(GaveUp):
        await Backoff(0.01, 0.01).retry(attempt, retry_on=(OSError,), stop=stop)

    # Loose bounds: a loaded CI machine stretches sleeps; a hot loop (every
    # sleep returning at once after set()) would make thousands of attempts.
    assert 0.09 <= time.monotonic() - started < 5.0
    assert failures >= 2
    assert failures <= 100, "the wake on set() must not make every later sleep return at once"


async def test_a_sleep_never_outlasts_the_deadline() -> None:
    stop = StopSignal()
    stop.set(grace_s=0.05)
    started = time.monotonic()

    await stop.sleep(30.0)

    assert time.monotonic() - started < 5.0  # far below the 30 s sleep, with room for a loaded CI


def test_reset_lifts_the_signal_and_an_earlier_deadline_wins() -> None:
    stop = StopSignal()
    stop.set(grace_s=100.0)
    stop.set(grace_s=0.0)
    assert stop.fired

    stop.reset()
    assert not stop.fired
    stop.set(grace_s=100.0)
    stop.set(grace_s=200.0)
    assert not stop.fired
    assert stop.deadline <= time.monotonic() + 100.0
