"""`clickstream api | etl | migrate | local ...`: builds Settings once and dispatches."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any

from clickstream.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clickstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("api", help="serve the ingest HTTP API (gunicorn + uvicorn workers)")
    commands.add_parser("etl", help="consume Kafka and load ClickHouse")
    commands.add_parser("migrate", help="apply the ClickHouse schema migrations")

    local = commands.add_parser("local", help="the real stack on this machine, as processes")
    actions = local.add_subparsers(dest="action", required=True)
    up = actions.add_parser("up", help="provision and start everything that is missing")
    up.add_argument("--topology", choices=["single", "cluster"], default=None)
    up.add_argument("--detach", action="store_true", help="return once ready")
    actions.add_parser("down", help="stop every component")
    status = actions.add_parser("status", help="per component: pid, ports, health")
    status.add_argument("--json", action="store_true")
    for name, text in (("start", "start one component"), ("stop", "stop one component")):
        action = actions.add_parser(name, help=text)
        action.add_argument("component", help="e.g. kafka-1, clickhouse-3, zookeeper, etl, kafka")
        if name == "stop":
            action.add_argument("--kill", action="store_true", help="SIGKILL instead of SIGTERM")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    if args.command == "api":
        from clickstream.api.server import serve

        return serve(settings)
    if args.command == "etl":
        from clickstream.etl.process import run

        return _run_fast(run(settings))
    if args.command == "migrate":
        from clickstream.clickhouse.migrations import migrate

        applied = asyncio.run(migrate(settings.clickhouse))
        print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none'}")
        return 0
    return _local(settings, args)


def _local(settings: Settings, args: argparse.Namespace) -> int:
    from clickstream.local import stack

    try:
        if args.action == "up":
            return stack.up(settings, args.topology, detach=args.detach)
        current = stack.open_stack(settings)
        if args.action == "down":
            current.down()
        elif args.action == "status":
            report = current.status()
            if args.json:
                print(json.dumps(report, indent=2))
            else:
                print(f"topology: {report['topology']}")
                for row in report["components"]:
                    state = (
                        "healthy"
                        if row["healthy"]
                        else ("running" if row["running"] else "stopped")
                    )
                    ports = ",".join(f"{k}={v}" for k, v in row["ports"].items())
                    print(
                        f"  {row['name']:<13} {state:<8} pid={row['pid']} {ports}  {row['log_file']}"
                    )
            return 0 if report["healthy"] else 1
        elif args.action == "start":
            current.start(args.component)
        elif args.action == "stop":
            current.stop(args.component, kill=args.kill)
    except (stack.StackError, KeyError) as error:
        print(f"clickstream local: {error}", file=sys.stderr)
        return 2
    return 0


def _run_fast(main: Coroutine[Any, Any, int]) -> int:
    """Run on uvloop (installed with uvicorn[standard]) when it is there."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a dependency; plain asyncio works too
        return asyncio.run(main)
    return uvloop.run(main)
