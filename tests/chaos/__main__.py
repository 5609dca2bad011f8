"""`python -m tests.chaos [--quick] [--only NAME]`: fault injection on the cluster stack.

Brings up its own cluster stack (tests/chaos/cluster.py: own ports and state
directory), runs the scenarios one after the other, prints one line each and
brings the stack down again, also on failure or Ctrl-C. Exits 1 if any
scenario lost or visibly duplicated an event or broke its own expectations.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from pathlib import Path

from clickstream_local.stack import Stack
from tests.chaos.cluster import cluster_stack, isolated_settings
from tests.chaos.scenario import FULL, QUICK, Profile, Result, Scenario, run_scenario
from tests.chaos.scenarios import SCENARIOS

COLUMNS = (
    f"{'scenario':<18} {'sent':>7} {'acked':>7} {'stored':>7} {'lost':>5} {'dups':>5} "
    f"{'seconds':>8} {'indet':>6} {'rejected':>8} {'raw_dups':>8} {'drain_s':>7}  result"
)


def line(result: Result) -> str:
    v = result.verdict
    if v is None:
        counts = f"{'-':>7} {'-':>7} {'-':>7} {'-':>5} {'-':>5}"
        extra = f"{'-':>6} {'-':>8} {'-':>8}"
    else:
        counts = (
            f"{v.sent:>7} {v.acknowledged:>7} {v.stored:>7} {len(v.lost):>5} {len(v.duplicates):>5}"
        )
        extra = f"{v.indeterminate:>6} {v.rejected:>8} {v.raw_duplicates:>8}"
    return (
        f"{result.name:<18} {counts} {result.seconds:>8.1f} {extra} {result.drain_s:>7.1f}  "
        f"{'ok' if result.ok else 'FAIL'}"
    )


def main() -> int:
    names = [s.name for s in SCENARIOS]
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="for CI: every scenario with less load and shorter faults",
    )
    parser.add_argument(
        "--only", action="append", choices=names, help="run this scenario (repeatable)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        help="events a second instead of the profile's (full 200, quick 100): more on more cores",
    )
    parser.add_argument("--keep-stack", action="store_true", help="leave the stack up afterwards")
    parser.add_argument(
        "--keep-data", action="store_true", help="keep a failed scenario's topic and database"
    )
    args = parser.parse_args()
    profile = QUICK if args.quick else FULL
    if args.rate is not None:
        profile = dataclasses.replace(profile, rate=args.rate)
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    settings = isolated_settings()
    log_dir = settings.state_dir.resolve() / "chaos" / time.strftime("%Y%m%d-%H%M%S")
    print(
        f"chaos ({profile.name}): {', '.join(s.name for s in chosen)}; logs in {log_dir}",
        flush=True,
    )
    with cluster_stack(settings, keep=args.keep_stack) as stack:
        # Scenarios run ETL processes of their own, on topics of their own, and
        # read no analyst view: the stack's own ETL and rollup job stay stopped.
        stack.stop("etl")
        stack.stop("rollup")
        results = asyncio.run(_run_all(stack, chosen, profile, log_dir, args.keep_data))
    print()
    print(COLUMNS)
    for result in results:
        print(line(result))
    return 0 if all(r.ok for r in results) else 1


async def _run_all(
    stack: Stack, chosen: list[type[Scenario]], profile: Profile, log_dir: Path, keep_data: bool
) -> list[Result]:
    results = []
    for scenario_type in chosen:
        scenario = scenario_type()
        print(f"\n== {scenario.name}: {scenario.summary}", flush=True)
        result = await run_scenario(
            stack, scenario, profile, log_dir / scenario.name, keep_data=keep_data
        )
        for note in result.notes:
            print(f"   {note}", flush=True)
        for problem in result.problems:
            print(f"   PROBLEM: {problem}", flush=True)
        print(COLUMNS, flush=True)
        print(line(result), flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    sys.exit(main())
