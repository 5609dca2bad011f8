"""`make bench-ingest`: events/s and latency of the API, against this machine's ceiling.

Needs the stack (`make up`). Runs the real API (gunicorn, uvicorn workers,
real Kafka, acks=all) and a no-op FastAPI endpoint under the same gunicorn
settings, loads both with wrk, and prints the ratio. `measure` is reused by
`tests.benchmarks.all`.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass

import orjson

from clickstream.events import EXAMPLES
from clickstream_local.stack import Stack
from tests.benchmarks.harness import WrkResult, drop_topic, new_topic, process, running_stack, wrk
from tests.chaos.memory import PeakRss

API_PORT, NOOP_PORT = 8100, 8101
BATCH_EVENTS = 100


@dataclass(frozen=True)
class IngestResult:
    ceiling: WrkResult
    single: WrkResult
    batch: WrkResult

    @property
    def ceiling_ratio(self) -> float:
        return self.single.requests_per_s / self.ceiling.requests_per_s

    @property
    def batch_eps(self) -> float:
        return self.batch.requests_per_s * BATCH_EVENTS


def measure(
    stack: Stack,
    *,
    seconds: int = 10,
    connections: int = 64,
    workers: int = 2,
    api_port: int = API_PORT,
    noop_port: int = NOOP_PORT,
    memory: PeakRss | None = None,
) -> IngestResult:
    """wrk against the no-op ceiling, then the real API: single events and batches of 100."""
    topic = new_topic(stack, "bench.ingest", partitions=6)
    single = orjson.dumps({"event": EXAMPLES["click"]})
    # Exactly BATCH_EVENTS events (batch_eps counts that many per request),
    # the example types in turn.
    kinds = itertools.islice(itertools.cycle(sorted(EXAMPLES)), BATCH_EVENTS)
    batch = orjson.dumps({"events": [EXAMPLES[kind] for kind in kinds]})
    common = {"CLICKSTREAM_API__WORKERS": str(workers), "CLICKSTREAM_API__HOST": "127.0.0.1"}
    api_env = {
        **common,
        "CLICKSTREAM_API__PORT": str(api_port),
        "CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS": stack.plan.kafka_bootstrap,
        "CLICKSTREAM_KAFKA__TOPIC": topic,
        "OTEL_TRACES_EXPORTER": "none",
    }

    def run(url: str, body: bytes, c: int = connections) -> WrkResult:
        return wrk(url, body, seconds=seconds, connections=c)

    try:
        with process(
            [sys.executable, "-m", "tests.benchmarks.noop"],
            {**common, "CLICKSTREAM_API__PORT": str(noop_port)},
            f"http://127.0.0.1:{noop_port}/healthz",
        ):
            run(f"http://127.0.0.1:{noop_port}/api/v1/events", single)  # warm-up
            ceiling = run(f"http://127.0.0.1:{noop_port}/api/v1/events", single)
        with process(
            [sys.executable, "-m", "clickstream", "api"],
            api_env,
            f"http://127.0.0.1:{api_port}/readyz",
        ) as api:
            if memory is not None:
                memory.watch("api (bench-ingest)", lambda: api.pid, workers=True)
            url = f"http://127.0.0.1:{api_port}/api/v1/events"
            run(url, single)  # warm-up
            single_result = run(url, single)
            batch_result = run(url + "/batch", batch, 16)
            if memory is not None:
                memory.sample()
                memory.unwatch("api (bench-ingest)")
    finally:
        drop_topic(stack, topic)
    return IngestResult(ceiling, single_result, batch_result)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    result = measure(
        running_stack(), seconds=args.seconds, connections=args.connections, workers=args.workers
    )
    ceiling, single, batch = result.ceiling, result.single, result.batch
    print(
        f"ceiling (no-op FastAPI, same gunicorn): {ceiling.requests_per_s:,.0f} req/s, p50 {ceiling.p50_ms:.2f} ms, p99 {ceiling.p99_ms:.2f} ms"
    )
    print(
        f"single events: {single.requests_per_s:,.0f} events/s, p50 {single.p50_ms:.2f} ms, p99 {single.p99_ms:.2f} ms, non-2xx {single.non_2xx}"
    )
    print(
        f"batches of {BATCH_EVENTS}: {batch.requests_per_s:,.0f} req/s = {result.batch_eps:,.0f} events/s, p50 {batch.p50_ms:.2f} ms, p99 {batch.p99_ms:.2f} ms, non-2xx {batch.non_2xx}"
    )
    print(
        f"RESULT single_eps={single.requests_per_s:.0f} single_p99_ms={single.p99_ms:.2f} "
        f"ceiling_ratio={result.ceiling_ratio:.2f} batch_eps={result.batch_eps:.0f}"
    )


if __name__ == "__main__":
    main()
