"""`clickstream local ...`: the development stack's sub-command of the product CLI.

Registered in the `clickstream.commands` entry-point group (pyproject.toml);
argument parsing is all that happens at import, because the product CLI loads
this for every invocation, `clickstream api` included.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pydantic import ValidationError

from clickstream.config import Settings


class LocalCommand:
    help = "the real stack on this machine, as processes (a development tool)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        up = actions.add_parser("up", help="provision and start everything that is missing")
        up.add_argument("--topology", choices=["single", "cluster"], default=None)
        up.add_argument("--detach", action="store_true", help="return once ready")
        actions.add_parser("down", help="stop every component")
        status = actions.add_parser("status", help="per component: pid, ports, health")
        status.add_argument("--json", action="store_true")
        for name, text in (("start", "start one component"), ("stop", "stop one component")):
            action = actions.add_parser(name, help=text)
            action.add_argument(
                "component", help="e.g. kafka-1, clickhouse-3, zookeeper, etl, kafka"
            )
            if name == "stop":
                action.add_argument(
                    "--kill", action="store_true", help="SIGKILL instead of SIGTERM"
                )

    def run(self, settings: Settings, args: argparse.Namespace) -> int:
        from clickstream_local import stack
        from clickstream_local.settings import LocalSettings

        try:
            local = LocalSettings()
        except ValidationError as error:
            print(f"clickstream local: CLICKSTREAM_LOCAL__* settings: {error}", file=sys.stderr)
            return 2
        try:
            if args.action == "up":
                return stack.up(local, settings, args.topology, detach=args.detach)
            current = stack.open_stack(local, settings=settings)
            if args.action == "down":
                current.down()
            elif args.action == "status":
                report = current.status()
                if args.json:
                    print(json.dumps(report, indent=2))
                else:
                    _print_status(report)
                return 0 if report["healthy"] else 1
            elif args.action == "start":
                current.start(args.component)
            elif args.action == "stop":
                current.stop(args.component, kill=args.kill)
        except (stack.StackError, KeyError) as error:
            print(f"clickstream local: {error}", file=sys.stderr)
            return 2
        return 0


def _print_status(report: dict[str, Any]) -> None:
    print(f"topology: {report['topology']}")
    for row in report["components"]:
        state = "healthy" if row["healthy"] else ("running" if row["running"] else "stopped")
        ports = ",".join(f"{k}={v}" for k, v in row["ports"].items())
        print(f"  {row['name']:<13} {state:<8} pid={row['pid']} {ports}  {row['log_file']}")


command = LocalCommand()
