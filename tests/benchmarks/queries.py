"""`make bench-queries`: the analyst queries, rollup-backed vs `events FINAL`, in one run.

Loads N synthetic events (tests/benchmarks/synthetic.py) through `events_ingest`
into a fresh database, runs the rollup job once, then times every query of
docs/analytics.md (p50 of --runs) against the rollup-backed view and against its
`*_raw` twin, which computes the same answer from the whole history through
FINAL. `--engine server` uses the running local stack (`make up`, or the
CLICKSTREAM_LOCAL__* ports of your own); `--engine chdb` runs modern ClickHouse
in-process (`make test-modern` installs chdb-core), in .cache/bench-chdb.

    python -m tests.benchmarks.queries [--events 10000000] [--engine server|chdb]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import time
from pathlib import Path
from typing import Any, Protocol

from clickstream.clickhouse.rollups import VERIFY_MARGIN_S, RollupJob
from tests.benchmarks.synthetic import DEFAULT_PER_DAY, SERVER_INSERT_SETTINGS, Shape, insert_sql

ROOT = Path(__file__).resolve().parents[2]

# (name, query): `{db}` is the database, `{raw}` is '' (rollup-backed) or '_raw'.
QUERIES: list[tuple[str, str]] = [
    (
        "clicks_by_element",
        "SELECT element, sum(clicks) AS clicks, sum(anonymous_clicks) AS anonymous_clicks "
        "FROM {db}.clicks_by_element{raw} GROUP BY element ORDER BY clicks DESC, element LIMIT 10",
    ),
    (
        "page_views",
        "SELECT page_url, sum(views) AS views, sum(anonymous_views) AS anonymous_views "
        "FROM {db}.page_views{raw} GROUP BY page_url ORDER BY views DESC, page_url LIMIT 10",
    ),
    (
        "time_on_page",
        "SELECT page_url, sum(views) AS views, "
        "round(sum(total_seconds) / sum(timed_views), 1) AS avg_seconds "
        "FROM {db}.time_on_page{raw} GROUP BY page_url ORDER BY views DESC, page_url LIMIT 10",
    ),
    (
        "search_filters",
        "SELECT filter_type, sum(uses) AS uses, max(users) AS top_value_users "
        "FROM {db}.search_filters{raw} GROUP BY filter_type ORDER BY uses DESC, filter_type",
    ),
    (
        "quality_changes",
        "SELECT device, direction, sum(changes) AS changes "
        "FROM {db}.quality_changes{raw} GROUP BY device, direction ORDER BY device, direction",
    ),
    (
        "videos_completed",
        "SELECT video_id, sum(completions) AS completions, sum(users) AS viewer_days "
        "FROM {db}.videos_completed{raw} GROUP BY video_id "
        "ORDER BY completions DESC, video_id LIMIT 10",
    ),
    (
        "engaged_time_on_page",
        "SELECT method, sum(views) AS views, "
        "round(sum(total_seconds) / sum(timed_views), 1) AS avg_seconds "
        "FROM {db}.engaged_time_on_page{raw} GROUP BY method ORDER BY method",
    ),
    (
        "sessions",
        "SELECT source, sum(sessions) AS total_sessions, "
        "round(sum(total_duration_s) / sum(sessions)) AS avg_duration_s, "
        "round(sum(page_views) / sum(sessions), 2) AS pages_per_session, "
        "round(sum(bounces) / sum(sessions), 3) AS bounce_rate "
        "FROM {db}.sessions{raw} GROUP BY source ORDER BY source",
    ),
    (
        "watch_time",
        "SELECT video_id, round(sum(watch_seconds) / 3600, 1) AS hours, "
        "sum(starts) AS started, sum(completions) AS completed, "
        "round(sum(completions) / sum(starts), 3) AS completion_rate "
        "FROM {db}.watch_time{raw} GROUP BY video_id ORDER BY hours DESC, video_id LIMIT 5",
    ),
    (
        "drop_off",
        "SELECT pct, sum(playbacks) AS total, round(sum(watching) / sum(playbacks), 3) AS still_watching "
        "FROM {db}.drop_off{raw} WHERE video_id = 'film-42' GROUP BY pct ORDER BY pct",
    ),
    (
        "quality_per_hour",
        "SELECT device, round(sum(hours_watched)) AS hours, sum(upgrades) AS up, "
        "sum(downgrades) AS down, "
        "round(sum(switches) / sum(hours_watched), 2) AS switches_per_hour "
        "FROM {db}.quality_per_hour{raw} GROUP BY device ORDER BY device",
    ),
    (
        "identity",
        "SELECT count() AS visitor_days, uniqExact(user_id) AS users, "
        "sum(events) AS anonymous_events, sum(page_views) AS anonymous_page_views "
        "FROM {db}.anonymous_activity{raw} ALL INNER JOIN ("
        "SELECT anonymous_id, argMax(identified_as, concat(toString(linked_at), identified_as)) "
        "AS user_id FROM {db}.identity_links{raw} GROUP BY anonymous_id) AS identified "
        "USING anonymous_id",
    ),
    (
        "last_7_days",
        "SELECT toDate(hour) AS day, sum(events) AS views FROM {db}.traffic{raw} "
        "WHERE event_type = 'page_view' AND hour >= toDateTime(today() - 7, 'UTC') "
        "GROUP BY day ORDER BY day",
    ),
]

# FINAL twins that are not the query over the `_raw` view. 18.16 does not push a
# view's outer WHERE into it, so `page_views_raw WHERE day >= ...` would read the
# whole history: the twin states the time range on the events themselves, so
# that FINAL reads only the partitions of those days, as an analyst would write it.
FINAL_TWINS: dict[str, str] = {
    "last_7_days": (
        "SELECT toDate(event_time) AS day, count() AS views FROM {db}.events FINAL "
        "WHERE event_type = 'page_view' AND event_time >= toDateTime(today() - 7, 'UTC') "
        "GROUP BY day ORDER BY day"
    ),
}


def final_twin(name: str, sql: str, database: str) -> str:
    """The same question answered from `events FINAL` (through a `_raw` view, or written out)."""
    return FINAL_TWINS.get(name, sql).format(db=database, raw="_raw")


class Engine(Protocol):
    async def execute(
        self, query: str, *, settings: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]: ...


async def _open(kind: str, database: str, *, reuse: bool = False) -> tuple[Engine, str]:
    """A fresh `database` on the engine, migrated; returns it and a description.

    `reuse` keeps the last run's data, to time a change of a view (or finish a
    run) without loading again: the server applies the migrations that have not
    run yet; chDB (no record of them) re-creates the analyst views as the code
    renders them now.
    """
    if kind == "chdb":
        from clickstream.clickhouse.migrations import load
        from clickstream.clickhouse.rollups import QUESTIONS
        from clickstream.config import ClickHouseSettings
        from tests.modern.engine import ModernClickHouse
        from tests.modern.sql import AsyncSql

        folder = ROOT / ".cache" / "bench-chdb"
        if not reuse:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        single = ClickHouseSettings()
        chdb = ModernClickHouse(folder, cluster=single.cluster)
        if reuse:
            for rollup in QUESTIONS:
                chdb.execute(f"DROP VIEW IF EXISTS {database}.{rollup.name}")
                chdb.execute(
                    f"CREATE VIEW {database}.{rollup.name} AS {rollup.served_sql(database)}"
                )
        else:
            for migration in load():
                chdb.execute(migration.render(single, database))
        ((version,),) = chdb.execute("SELECT version()")
        return AsyncSql(chdb), f"chDB {version} (in-process)"
    from clickstream.clickhouse.client import ClickHouse
    from clickstream.clickhouse.migrations import migrate
    from tests.benchmarks.harness import running_stack

    # A million-event insert on two shared cores can take minutes.
    settings = (
        running_stack()
        .service_settings()
        .clickhouse.model_copy(update={"send_receive_timeout_s": 3600.0})
    )
    server = ClickHouse(settings)
    if not reuse:
        await server.execute(f"DROP DATABASE IF EXISTS {database}")
    await migrate(settings, database=database)  # with `reuse`: what has not run yet
    ((version,),) = await server.execute("SELECT version()")
    return server, f"ClickHouse {version} (local stack, single)"


async def _timed(engine: Engine, sql: str, runs: int) -> tuple[float, list[tuple[Any, ...]]]:
    """The p50 of `runs` runs, and the answer."""
    times = []
    rows: list[tuple[Any, ...]] = []
    for _ in range(runs):
        start = time.perf_counter()
        rows = await engine.execute(sql)
        times.append(time.perf_counter() - start)
    return statistics.median(times), rows


def _same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """Equal answers, floats to 9 significant digits (sums of floats in another order)."""

    def norm(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(f"{v:.9g}" if isinstance(v, float) else str(v) for v in row) for row in rows]

    return norm(a) == norm(b)


# chDB only (18.16 knows no max_insert_threads): the ingest view parses each
# envelope and more views write each row, so one insert thread leaves the
# second core idle. The ETL's own settings come first.
CHDB_LOAD_SETTINGS = {"max_insert_threads": 2, "max_threads": 2}


async def bench(
    kind: str,
    events: int,
    per_day: int,
    runs: int,
    chunk: int,
    *,
    final_runs: int | None = None,
    show: bool = False,
    reuse: bool = False,
) -> None:
    database = "bench_queries"
    engine, description = await _open(kind, database, reuse=reuse)
    # The newest events land half an hour ago: today is open, the days before closed.
    shape = Shape(events=events, end_s=int(time.time()) - 1800, per_day=per_day)
    print(f"{description}: {events:,} events over {shape.days} days", flush=True)
    settings = {**SERVER_INSERT_SETTINGS, "max_block_size": chunk}
    if kind == "chdb":
        settings |= CHDB_LOAD_SETTINGS
    start = time.perf_counter()
    for first in range(0, 0 if reuse else events, chunk):
        await engine.execute(
            insert_sql(database, shape, first, min(chunk, events - first)), settings=settings
        )
        done = min(first + chunk, events)
        print(f"loaded {done:,} in {time.perf_counter() - start:.0f} s", flush=True)
    load_s = time.perf_counter() - start
    ((stored,),) = await engine.execute(f"SELECT count() FROM {database}.events")
    rate = "reused" if reuse else f"{events / load_s:,.0f} events/s"
    print(f"RESULT load_s={load_s:.1f} rows_stored={int(stored)} ({rate})")
    start = time.perf_counter()
    built = await RollupJob(engine, database).run_once()
    print(f"RESULT rollup_s={time.perf_counter() - start:.1f} builds={len(built)}", flush=True)
    # The deployed job passes every minute. Its next pass after the margin vouches for
    # the hours the load's last minute touched, which the first one left live.
    await asyncio.sleep(VERIFY_MARGIN_S + 1)
    start = time.perf_counter()
    again = await RollupJob(engine, database).run_once()
    print(f"RESULT second_pass_s={time.perf_counter() - start:.1f} builds={len(again)}", flush=True)
    print(f"\n{'query':<20} {'rollup p50 s':>12} {'FINAL p50 s':>12} {'speed-up':>9}")
    for name, sql in QUERIES:
        rolled, answer = await _timed(engine, sql.format(db=database, raw=""), runs)
        if final_runs == 0:
            print(f"{name:<20} {rolled:>12.3f}")
            print(f"RESULT query={name} rollup_p50_s={rolled:.4f}", flush=True)
            continue
        try:
            raw, expected = await _timed(
                engine, final_twin(name, sql, database), final_runs or runs
            )
        except Exception as error:  # reported: FINAL could not answer at all
            refusal = str(error).strip().splitlines()[0][:100]
            print(f"{name:<20} {rolled:>12.3f} {'refused':>12}  FINAL refused: {refusal}")
            print(f"RESULT query={name} rollup_p50_s={rolled:.4f} final_refused=1", flush=True)
            continue
        same = "same answer" if _same(answer, expected) else "ANSWERS DIFFER"
        print(f"{name:<20} {rolled:>12.3f} {raw:>12.3f} {raw / rolled:>8.1f}x  {same}")
        print(
            f"RESULT query={name} rollup_p50_s={rolled:.4f} final_p50_s={raw:.4f} "
            f"same={int(_same(answer, expected))}",
            flush=True,
        )
    if show:  # the answers, for docs/analytics.md
        for name, sql in QUERIES:
            print(f"\n-- {name}\n{sql.format(db='clickstream', raw='')}")
            for row in await engine.execute(sql.format(db=database, raw="")):
                print("\t".join(str(value) for value in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--engine", choices=["server", "chdb"], default="server")
    parser.add_argument("--per-day", type=int, default=DEFAULT_PER_DAY, help="events per day")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--final-runs", type=int, help="runs of each FINAL twin (default --runs; slow at 100M)"
    )
    parser.add_argument(
        "--chunk",
        type=int,
        help="events per insert (default: 2M on chDB; 1M on the server, whose 2M-event "
        "insert passed 18.16's 9.3 GiB memory limit for a query)",
    )
    parser.add_argument("--show", action="store_true", help="print every query's answer too")
    parser.add_argument(
        "--reuse", action="store_true", help="the last run's data, no load (--events: its size)"
    )
    args = parser.parse_args()
    asyncio.run(
        bench(
            args.engine,
            args.events,
            args.per_day,
            args.runs,
            args.chunk or (2_000_000 if args.engine == "chdb" else 1_000_000),
            final_runs=args.final_runs,
            show=args.show,
            reuse=args.reuse,
        )
    )


if __name__ == "__main__":
    main()
