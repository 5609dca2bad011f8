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
from datetime import UTC, date, datetime
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Protocol

from clickstream.config import Settings

if TYPE_CHECKING:
    # Imported when run: the ETL's modules load aiokafka, which `clickstream api` need not.
    from clickstream.etl.replay import Tally

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
    erase = commands.add_parser("erase", help="delete a person's events everywhere, for good")
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-id")
    who.add_argument("--anonymous-id")
    who.add_argument("--verify", metavar="USER_ID", help="prove no row is left, node by node")
    erase.add_argument("--requested-by", default="", help="who asked (kept in the audit)")
    retention = commands.add_parser("retention", help="drop the events' months older than N days")
    retention.add_argument("--days", type=int, required=True)
    dlq = commands.add_parser("dlq", help="the dead-letter topic: list or redrive")
    dlq.add_argument("action", choices=["list", "redrive"])
    dlq.add_argument("--reason", help="only dead letters whose reason contains this")
    dlq.add_argument("--since", type=_time, help="ISO 8601; only dead letters from then on")
    replay = commands.add_parser("replay", help="reload a time range of Kafka into ClickHouse")
    replay.add_argument("--from", dest="start", type=_time, required=True, help="ISO 8601")
    replay.add_argument("--to", dest="end", type=_time, help="ISO 8601; default: now")
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
    if args.command in ("erase", "retention"):
        return _privacy(settings, args)
    if args.command in ("dlq", "replay"):
        return _replay(settings, args)
    if args.command == "rollup":
        from clickstream import telemetry
        from clickstream.clickhouse import rollups

        # Its passes and their failures are its only output (it serves nothing).
        telemetry.setup_logging(settings)
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


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _privacy(settings: Settings, args: argparse.Namespace) -> int:
    from clickstream import privacy
    from clickstream.clickhouse.client import ClickHouseError

    try:
        if args.command == "retention":
            dropped = asyncio.run(
                privacy.apply_retention(
                    settings.clickhouse, days=args.days, today=date.today(), progress=_say
                )
            )
            print(f"dropped {len(dropped)} partition(s): {', '.join(dropped) or 'none'}")
            return 0
        if args.verify is not None:
            counts = asyncio.run(
                privacy.remaining(settings.clickhouse, id_kind="user_id", id_value=args.verify)
            )
            for node, count in counts:
                print(f"{node}: {count}")
            return 0 if all(count == 0 for _, count in counts) else 1
        kind, value = (
            ("user_id", args.user_id) if args.user_id else ("anonymous_id", args.anonymous_id)
        )
        done = asyncio.run(
            privacy.erase(
                settings.clickhouse,
                id_kind=kind,
                id_value=value,
                requested_by=args.requested_by,
                progress=_say,
            )
        )
    except privacy.ErasureError as error:
        print(f"clickstream {args.command}: {error}", file=sys.stderr)
        return 2
    except ClickHouseError as error:
        print(f"clickstream {args.command}: ClickHouse failed: {error!r}", file=sys.stderr)
        return 1
    print(
        f"erased {kind} sha256:{done.id_hash}: {done.rows_deleted} row(s) over "
        f"{len(done.days)} day(s); suppressed from now on"
    )
    return 0


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    from clickstream.etl import replay

    try:
        tally = _reload(settings, args)
    except replay.ReplayError as error:
        print(f"clickstream {args.command}: {error}", file=sys.stderr)
        return 2
    print(tally.line())
    return 0


def _reload(settings: Settings, args: argparse.Namespace) -> Tally:
    from clickstream.etl import replay

    if args.command == "replay":
        tally = asyncio.run(replay.replay(settings, start=args.start, end=args.end, progress=_say))
    elif args.action == "redrive":
        tally = asyncio.run(
            replay.redrive(settings, reason=args.reason, since=args.since, progress=_say)
        )
    else:

        def show(letter: replay.DeadLetter, why: str | None) -> None:
            verdict = "would load now" if why is None else f"refused: {why}"
            print(
                f"{letter.timestamp.isoformat()} {letter.partition}@{letter.offset} "
                f"from {letter.source} reason={letter.reason!r}: {verdict}"
            )

        tally = asyncio.run(
            replay.list_dead_letters(settings, reason=args.reason, since=args.since, show=show)
        )
    return tally


def _run_fast(main: Coroutine[Any, Any, int]) -> int:
    """Run on uvloop (installed with uvicorn[standard]) when it is there."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a dependency; plain asyncio works too
        return asyncio.run(main)
    return uvloop.run(main)
