"""Freshness: from the API's 200 to the event being visible in `events`, at a fixed load.

Sends `rate` events/s through the stack's own API (batches of `batch_size`,
each event with its own id and a run tag in `device`) for `seconds`, and
meanwhile polls the Distributed table every `poll_s`: a cheap count of the
tag's rows, and when it moved, the ids received since the oldest event not
seen yet. An event's freshness is the moment its id was first returned minus
the moment its 200 arrived. Polling adds up to `poll_s` (and a query's time).

Needs the cluster stack with its api and etl components running: used by
`tests.benchmarks.all`, or alone with `python -m tests.benchmarks.freshness`
against the stack the CLICKSTREAM_LOCAL__* settings name.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
import uuid
from dataclasses import dataclass

import httpx

from clickstream_local.settings import LocalSettings
from clickstream_local.stack import Stack, open_stack
from tests.chaos.load import LoadGenerator, percentile
from tests.chaos.storage import ClickHouseNodes

# After the load stops, how long stragglers may take to show up.
SETTLE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class FreshnessResult:
    rate: float
    seconds: float
    acknowledged: int
    seen: int
    p50_s: float
    p99_s: float
    max_s: float
    answers: dict[str, int]

    @property
    def achieved_eps(self) -> float:
        return self.acknowledged / self.seconds


class _Watcher:
    """First time each id of the tag was seen in `events` (monotonic)."""

    def __init__(self, clickhouse: ClickHouseNodes, database: str, tag: str) -> None:
        self.first_seen: dict[str, float] = {}
        self._clickhouse = clickhouse
        self._table = f"{database}.events"
        self._tag = tag
        self._count = 0

    async def poll(self, oldest_unseen_wall: float) -> None:
        where = f"device = '{self._tag}'"
        rows = await self._clickhouse.query_any(f"SELECT count() FROM {self._table} WHERE {where}")
        count = int(rows[0][0])
        if count == self._count:
            return
        self._count = count
        # received_at has whole seconds and is set before Kafka acknowledges.
        since = math.floor(oldest_unseen_wall) - 1
        rows = await self._clickhouse.query_any(
            f"SELECT toString(event_id) FROM {self._table} "
            f"WHERE {where} AND received_at >= toDateTime({since})"
        )
        now = time.monotonic()
        for (event_id,) in rows:
            self.first_seen.setdefault(event_id, now)


async def measure(
    stack: Stack,
    *,
    rate: float = 1000,
    seconds: float = 60,
    batch_size: int = 10,
    poll_s: float = 0.05,
) -> FreshnessResult:
    tag = f"fresh-{uuid.uuid4().hex[:8]}"
    load = LoadGenerator(
        stack.plan.api_url, rate=rate, tag=tag, batch_size=batch_size, invalid_every=0
    )
    wall_offset = time.time() - time.monotonic()
    stop = asyncio.Event()
    async with httpx.AsyncClient() as http:
        watcher = _Watcher(
            ClickHouseNodes(stack.plan.clickhouse_nodes, http),
            stack.service_settings().clickhouse.database,
            tag,
        )
        sending = asyncio.create_task(load.run(stop))
        started = time.monotonic()
        settle_deadline = started + seconds + SETTLE_TIMEOUT_S
        acked: dict[str, float] = {}
        scanned = 0
        while time.monotonic() < settle_deadline:
            if not stop.is_set() and time.monotonic() - started >= seconds:
                stop.set()
            attempts = load.ledger.attempts
            for attempt in attempts[scanned:]:
                if attempt.outcome == "acknowledged":
                    acked.update(dict.fromkeys(attempt.event_ids, attempt.finished))
            scanned = len(attempts)
            unseen = [acked[i] for i in acked.keys() - watcher.first_seen.keys()]
            if stop.is_set() and sending.done() and not unseen:
                break
            oldest = min(unseen, default=time.monotonic()) - load.timeout_s
            await watcher.poll(oldest + wall_offset)
            await asyncio.sleep(poll_s)
        stop.set()
        await sending
    delays = [
        max(0.0, watcher.first_seen[i] - at) for i, at in acked.items() if i in watcher.first_seen
    ]
    return FreshnessResult(
        rate=rate,
        seconds=seconds,
        acknowledged=len(acked),
        seen=len(delays),
        p50_s=percentile(delays, 0.5),
        p99_s=percentile(delays, 0.99),
        max_s=max(delays, default=float("nan")),
        answers=load.ledger.answers(load.ledger.attempts),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--batch-size", type=int, default=10)
    args = parser.parse_args()
    stack = open_stack(LocalSettings())
    result = asyncio.run(
        measure(stack, rate=args.rate, seconds=args.seconds, batch_size=args.batch_size)
    )
    print(
        f"freshness at {args.rate:,.0f} events/s for {args.seconds:.0f}s: p50 {result.p50_s:.2f}s, "
        f"p99 {result.p99_s:.2f}s, max {result.max_s:.2f}s; {result.seen}/{result.acknowledged} "
        f"seen, answers {result.answers}"
    )
    print(f"RESULT freshness_p50_s={result.p50_s:.3f} freshness_p99_s={result.p99_s:.3f}")


if __name__ == "__main__":
    main()
