"""`clickstream api | etl | migrate | rollup`, plus installed plugins: builds Settings once and dispatches.

Further sub-commands come from the `clickstream.commands` entry-point group:
the repository's development stack registers `clickstream local` there. The
product never imports it; an installation without it says so instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

from clickstream.config import Settings

COMMANDS_GROUP = "clickstream.commands"


class Command(Protocol):
    """A sub-command contributed by another package through `COMMANDS_GROUP`."""

    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, settings: Settings, args: argparse.Namespace) -> int: ...


class _Unavailable:
    """Stands in for a registered command whose package is not installed.

    The wheel carries the entry point but not the development stack it names,
    so `clickstream local` in the image must explain itself, not crash.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.help = "(not installed here: a development tool)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def run(self, settings: Settings, args: argparse.Namespace) -> int:
        print(
            f"clickstream {self.name}: the {self.name} stack is a development tool, not part of "
            "this installation: run it from a checkout of the repository (make up)",
            file=sys.stderr,
        )
        return 2


def _load(entry_point: EntryPoint) -> Command:
    try:
        command: Command = entry_point.load()
    except ModuleNotFoundError as error:
        # Only the plugin's own package missing means "not installed"; any
        # other missing module is a bug in an installed plugin and must show.
        if error.name != entry_point.module.partition(".")[0]:
            raise
        return _Unavailable(entry_point.name)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clickstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("api", help="serve the ingest HTTP API (gunicorn + uvicorn workers)")
    commands.add_parser("etl", help="consume Kafka and load ClickHouse")
    commands.add_parser("migrate", help="apply the ClickHouse schema migrations")
    rollup = commands.add_parser("rollup", help="rebuild the analyst rollups of closed days")
    rollup.add_argument("--once", action="store_true", help="one pass, then exit")
    rollup.add_argument("--interval-s", type=float, default=60.0, help="seconds between passes")
    rollup.add_argument(
        "--backfill", action="store_true", help="first count days stored before the rollups existed"
    )
    for entry_point in entry_points(group=COMMANDS_GROUP):
        plugin = _load(entry_point)
        sub = commands.add_parser(entry_point.name, help=plugin.help)
        plugin.add_arguments(sub)
        sub.set_defaults(plugin=plugin)
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
    if args.command == "rollup":
        from clickstream.clickhouse import rollups

        return asyncio.run(
            rollups.run(
                settings.clickhouse,
                interval_s=args.interval_s,
                once=args.once,
                backfill=args.backfill,
            )
        )
    plugin: Command = args.plugin
    return plugin.run(settings, args)


def _run_fast(main: Coroutine[Any, Any, int]) -> int:
    """Run on uvloop (installed with uvicorn[standard]) when it is there."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a dependency; plain asyncio works too
        return asyncio.run(main)
    return uvloop.run(main)
