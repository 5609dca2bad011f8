"""`make bench`: every benchmark on the cluster topology, one table.

Brings up the isolated cluster stack (tests/chaos/cluster.py: its own ports
and state directory; 3 brokers, ClickHouse 2 shards x 2 replicas) and, on it:
freshness at a fixed load through the stack's own API and ETL, the ingest
benchmark (single events and batches, wrk), the ETL backlog benchmark; while
all of that runs, the resident memory of every process is sampled and its
peak kept. Brings the stack down afterwards unless `--keep-stack`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools

from clickstream_local import processes
from tests.benchmarks import etl, freshness, ingest
from tests.benchmarks.harness import machine
from tests.chaos.cluster import cluster_stack, isolated_settings
from tests.chaos.memory import PeakRss

FRESHNESS_P99_TARGET_S = 2.0
RSS_TARGET_MB = 200.0


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.all")
    parser.add_argument("--rate", type=float, default=1000, help="freshness load, events/s")
    parser.add_argument("--freshness-seconds", type=float, default=60)
    parser.add_argument("--batch-size", type=int, default=10, help="events per request")
    parser.add_argument("--ingest-seconds", type=int, default=10)
    parser.add_argument("--etl-events", type=int, default=300_000)
    parser.add_argument("--keep-stack", action="store_true")
    args = parser.parse_args()

    settings = isolated_settings()
    with cluster_stack(settings, keep=args.keep_stack) as stack, PeakRss() as memory:
        for component in stack.plan.components:
            memory.watch(
                component.name,
                functools.partial(processes.read_pid, component),
                workers=component.kind == "api",
            )
        print(f"freshness at {args.rate:,.0f} events/s ...", flush=True)
        fresh = asyncio.run(
            freshness.measure(
                stack,
                rate=args.rate,
                seconds=args.freshness_seconds,
                batch_size=args.batch_size,
            )
        )
        print("ingest ...", flush=True)
        local = settings
        ingested = ingest.measure(
            stack,
            seconds=args.ingest_seconds,
            api_port=local.api_port + 100,
            noop_port=local.api_port + 101,
            memory=memory,
        )
        print("ETL ...", flush=True)
        loaded = etl.measure(stack, count=args.etl_events, memory=memory)
    peaks = memory.peaks

    rows = [
        (
            "ingest, single events (wrk, 64 connections)",
            f"{ingested.single.requests_per_s:,.0f} events/s, p50 {ingested.single.p50_ms:.1f} ms, "
            f"p99 {ingested.single.p99_ms:.1f} ms, non-2xx {ingested.single.non_2xx}",
            "",
        ),
        (
            "ingest ceiling (no-op FastAPI, same gunicorn)",
            f"{ingested.ceiling.requests_per_s:,.0f} req/s (API at {ingested.ceiling_ratio:.2f} of it)",
            "",
        ),
        (
            f"ingest, batches of {ingest.BATCH_EVENTS} (16 connections)",
            f"{ingested.batch_eps:,.0f} events/s, p50 {ingested.batch.p50_ms:.1f} ms, "
            f"p99 {ingested.batch.p99_ms:.1f} ms, non-2xx {ingested.batch.non_2xx}",
            "",
        ),
        (
            f"ETL, backlog of {loaded.events:,} events",
            f"{loaded.etl_eps:,.0f} events/s (clickhouse-client ceiling "
            f"{loaded.ceiling_eps:,.0f} rows/s, ratio {loaded.ratio:.2f})",
            "",
        ),
        (
            f"freshness at {fresh.rate:,.0f} events/s, {fresh.seconds:.0f} s",
            f"p50 {fresh.p50_s:.2f} s, p99 {fresh.p99_s:.2f} s, max {fresh.max_s:.2f} s "
            f"({fresh.seen:,}/{fresh.acknowledged:,} seen, {fresh.achieved_eps:,.0f} acked/s)",
            f"p99 <= {FRESHNESS_P99_TARGET_S:.0f} s: "
            f"{_verdict(fresh.p99_s <= FRESHNESS_P99_TARGET_S and fresh.seen == fresh.acknowledged)}",
        ),
    ]
    for label, peak in sorted(peaks.items()):
        limited = "worker" in label or label.startswith("etl")
        target = (
            f"< {RSS_TARGET_MB:.0f} MB: {_verdict(peak / 2**20 < RSS_TARGET_MB)}" if limited else ""
        )
        rows.append((f"peak RSS {label}", f"{peak / 2**20:,.0f} MB", target))

    print(f"\nclickstream benchmarks, cluster topology; {machine()}")
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"{'measure':<{width}}  {'value':<{value_width}}  target")
    for label, value, target in rows:
        print(f"{label:<{width}}  {value:<{value_width}}  {target}".rstrip())
    worst_rss = max(
        (p for label, p in peaks.items() if "worker" in label or label.startswith("etl")),
        default=0,
    )
    print(
        f"RESULT freshness_p50_s={fresh.p50_s:.3f} freshness_p99_s={fresh.p99_s:.3f} "
        f"single_eps={ingested.single.requests_per_s:.0f} batch_eps={ingested.batch_eps:.0f} "
        f"etl_eps={loaded.etl_eps:.0f} max_worker_or_etl_rss_mb={worst_rss / 2**20:.0f}"
    )


if __name__ == "__main__":
    main()
