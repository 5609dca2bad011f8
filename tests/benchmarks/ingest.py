"""`make bench-ingest`: events/s and latency of the API, against this machine's ceiling.

Needs the stack (`make up`). Runs the real API (gunicorn, uvicorn workers,
real Kafka, acks=all) and a no-op FastAPI endpoint under the same gunicorn
settings, loads both with wrk, and prints the ratio.
"""

from __future__ import annotations

import argparse
import sys

import orjson

from clickstream.events import EXAMPLES
from tests.benchmarks.harness import drop_topic, new_topic, process, running_stack, wrk

API_PORT, NOOP_PORT = 8100, 8101


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    stack = running_stack()
    topic = new_topic(stack, "bench.ingest", partitions=6)
    single = orjson.dumps({"event": EXAMPLES["click"]})
    batch = orjson.dumps({"events": [EXAMPLES[k] for k in sorted(EXAMPLES)] * 20})
    common = {"CLICKSTREAM_API__WORKERS": str(args.workers), "CLICKSTREAM_API__HOST": "127.0.0.1"}
    api_env = {
        **common,
        "CLICKSTREAM_API__PORT": str(API_PORT),
        "CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS": stack.plan.kafka_bootstrap,
        "CLICKSTREAM_KAFKA__TOPIC": topic,
        "OTEL_TRACES_EXPORTER": "none",
    }
    run = lambda url, body, c=args.connections: wrk(url, body, seconds=args.seconds, connections=c)  # noqa: E731
    try:
        with process(
            [sys.executable, "-m", "tests.benchmarks.noop"],
            {**common, "CLICKSTREAM_API__PORT": str(NOOP_PORT)},
            f"http://127.0.0.1:{NOOP_PORT}/healthz",
        ):
            run(f"http://127.0.0.1:{NOOP_PORT}/api/v1/events", single)  # warm-up
            ceiling = run(f"http://127.0.0.1:{NOOP_PORT}/api/v1/events", single)
        with process(
            [sys.executable, "-m", "clickstream", "api"],
            api_env,
            f"http://127.0.0.1:{API_PORT}/readyz",
        ):
            url = f"http://127.0.0.1:{API_PORT}/api/v1/events"
            run(url, single)  # warm-up
            single_result = run(url, single)
            batch_result = run(url + "/batch", batch, 16)
    finally:
        drop_topic(stack, topic)

    ratio = single_result.requests_per_s / ceiling.requests_per_s
    batch_eps = batch_result.requests_per_s * 100
    print(
        f"ceiling (no-op FastAPI, same gunicorn): {ceiling.requests_per_s:,.0f} req/s, p50 {ceiling.p50_ms:.2f} ms, p99 {ceiling.p99_ms:.2f} ms"
    )
    print(
        f"single events: {single_result.requests_per_s:,.0f} events/s, p50 {single_result.p50_ms:.2f} ms, p99 {single_result.p99_ms:.2f} ms, non-2xx {single_result.non_2xx}"
    )
    print(
        f"batches of 100: {batch_result.requests_per_s:,.0f} req/s = {batch_eps:,.0f} events/s, p50 {batch_result.p50_ms:.2f} ms, p99 {batch_result.p99_ms:.2f} ms, non-2xx {batch_result.non_2xx}"
    )
    print(
        f"RESULT single_eps={single_result.requests_per_s:.0f} single_p99_ms={single_result.p99_ms:.2f} "
        f"ceiling_ratio={ratio:.2f} batch_eps={batch_eps:.0f}"
    )


if __name__ == "__main__":
    main()
