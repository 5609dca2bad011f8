"""Erasure that a replay cannot undo: delete a person's rows, suppress their id, audit it.

`erase` puts the id's sha256 on the suppression list first (every node's
`<db>_ingest.suppressed_ids`), waits for the ETL to pick it up, then deletes
the rows on every node and waits for ClickHouse's asynchronous mutations to
finish, and records the request in `<db>.erasures`. Only the id's hash is
stored or sent in a query: the mutation's text stays in `system.mutations`
and the query log, and must not hold the id itself. `Suppression` is the
ETL's side: a cheap check of every consumed record against the list, so a
replay of Kafka or a dead-letter redrive cannot bring the rows back
(suppression.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from clickstream.clickhouse.client import ClickHouse
from clickstream.config import ClickHouseSettings
from clickstream.suppression import (
    ID_KINDS,
    SUPPRESSION_REFRESH_S,
    Suppression,
    SuppressionRefresher,
    id_hash,
    ingest_database,
    load_suppression,
)

__all__ = [
    "ID_KINDS",
    "SUPPRESSION_REFRESH_S",
    "ErasureError",
    "Suppression",
    "SuppressionRefresher",
    "erase",
    "id_hash",
    "ingest_database",
    "load_suppression",
]

log = logging.getLogger(__name__)

MUTATION_TIMEOUT_S = 3600.0
# Where events are stored: events_local, and events_recent_local, the last days
# again for the hourly views (migration 0106). An erasure deletes from both.
EVENT_TABLES = ("events_local", "events_recent_local")


class ErasureError(RuntimeError):
    """The erasure cannot be done as asked; the message says why."""


# -- erasure ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Erasure:
    id_kind: str
    id_hash: str
    requested_by: str
    requested_at: datetime
    finished_at: datetime
    rows_deleted: int
    days: tuple[date, ...]


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def id_predicate(id_kind: str, digest: str) -> str:
    # By hash, not by value: the WHERE clause is kept in system.mutations.
    return f"lower(hex(SHA256({id_kind}))) = {_literal(digest)}"


def _on_node(settings: ClickHouseSettings, node: Node) -> ClickHouse:
    return ClickHouse(
        settings.model_copy(update={"host": node.host, "port": node.port, "alt_hosts": ""})
    )


async def cluster_nodes(settings: ClickHouseSettings) -> list[Node]:
    """Every replica of every shard (system.clusters), or the one node."""
    if not settings.replicated:
        return [Node(settings.host, settings.port)]
    async with ClickHouse(settings) as clickhouse:
        rows = await clickhouse.execute(
            "SELECT host_name, port FROM system.clusters "
            f"WHERE cluster = {_literal(settings.cluster)} ORDER BY shard_num, replica_num"
        )
    if not rows:
        raise ErasureError(f"cluster {settings.cluster!r} is not in system.clusters")
    return [Node(str(host), int(port)) for host, port in rows]


async def _check_column(clickhouse: ClickHouse, database: str, id_kind: str) -> None:
    if id_kind not in ID_KINDS:
        raise ErasureError(f"unknown id kind {id_kind!r}; one of {', '.join(ID_KINDS)}")
    [(found,)] = await clickhouse.execute(
        "SELECT count() FROM system.columns WHERE database = "
        f"{_literal(database)} AND table = 'events_local' AND name = {_literal(id_kind)}"
    )
    if not found:
        raise ErasureError(
            f"{database}.events_local has no {id_kind} column yet (an older schema): "
            "nothing of this kind is stored to erase"
        )


async def _event_tables(clickhouse: ClickHouse, database: str) -> list[str]:
    """EVENT_TABLES that exist (a schema older than 0106 has no events_recent_local)."""
    listed = ", ".join(_literal(table) for table in EVENT_TABLES)
    rows = await clickhouse.execute(
        f"SELECT name FROM system.tables WHERE database = {_literal(database)} "
        f"AND name IN ({listed})"
    )
    found = {str(name) for (name,) in rows}
    return [table for table in EVENT_TABLES if table in found]


async def _each(
    settings: ClickHouseSettings, nodes: Sequence[Node], query: str, rows: list[tuple[object, ...]]
) -> None:
    for node in nodes:
        async with _on_node(settings, node) as clickhouse:
            await clickhouse.execute(query, rows)


async def erase(
    settings: ClickHouseSettings,
    *,
    id_kind: str,
    id_value: str,
    requested_by: str,
    suppression_wait_s: float = SUPPRESSION_REFRESH_S * 1.5,
    progress: Callable[[str], None] = lambda _: None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Erasure:
    database = settings.database
    digest = id_hash(id_value)
    requested_at = clock()
    nodes = await cluster_nodes(settings)
    async with ClickHouse(settings) as clickhouse:
        await _check_column(clickhouse, database, id_kind)
    progress(f"suppressing {id_kind} sha256:{digest[:12]}... on {len(nodes)} node(s)")
    await _each(
        settings,
        nodes,
        f"INSERT INTO {ingest_database(database)}.suppressed_ids (id_kind, id_hash, added_at) VALUES",
        [(id_kind, digest, requested_at.replace(tzinfo=None))],
    )
    # The ETL may have read the list just before: give it one refresh to stop
    # loading this id, so nothing lands after the delete.
    progress(f"waiting {suppression_wait_s:.0f}s for the ETL to pick the list up")
    await asyncio.sleep(suppression_wait_s)
    where = id_predicate(id_kind, digest)
    async with ClickHouse(settings, ddl=True) as clickhouse:
        found = await clickhouse.execute(
            f"SELECT toDate(event_time) AS day, count() FROM {database}.events "
            f"WHERE {where} GROUP BY day ORDER BY day"
        )
        rows_deleted = sum(int(count) for _, count in found)
        days = tuple(day for day, _ in found)
        progress(f"deleting {rows_deleted} row(s) from {len(days)} day(s)")
        on_cluster = f"ON CLUSTER {settings.cluster}" if settings.replicated else ""
        for table in await _event_tables(clickhouse, database):
            await clickhouse.execute(
                f"ALTER TABLE {database}.{table} {on_cluster} DELETE WHERE {where}"
            )
    await wait_for_mutations(settings, nodes, progress=progress)
    finished_at = clock()
    await _each(
        settings,
        nodes,
        f"INSERT INTO {database}.erasures (requested_at, requested_by, id_kind, id_hash, "
        "rows_deleted, days, finished_at) VALUES",
        [
            (
                requested_at.replace(tzinfo=None),
                requested_by,
                id_kind,
                digest,
                rows_deleted,
                list(days),
                finished_at.replace(tzinfo=None),
            )
        ],
    )
    return Erasure(id_kind, digest, requested_by, requested_at, finished_at, rows_deleted, days)


async def wait_for_mutations(
    settings: ClickHouseSettings,
    nodes: Sequence[Node],
    *,
    timeout_s: float = MUTATION_TIMEOUT_S,
    poll_s: float = 0.5,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Until no node has an unfinished mutation of the events (18.16 runs them later)."""
    deadline = time.monotonic() + timeout_s
    tables = ", ".join(_literal(table) for table in EVENT_TABLES)
    for node in nodes:
        async with _on_node(settings, node) as clickhouse:
            while True:
                [(pending,)] = await clickhouse.execute(
                    "SELECT count() FROM system.mutations WHERE database = "
                    f"{_literal(settings.database)} AND table IN ({tables}) AND is_done = 0"
                )
                if not pending:
                    progress(f"{node}: mutations done")
                    break
                if time.monotonic() > deadline:
                    raise ErasureError(f"{node}: {pending} mutation(s) still running")
                await asyncio.sleep(poll_s)


async def remaining(
    settings: ClickHouseSettings, *, id_kind: str, id_value: str
) -> list[tuple[Node, int]]:
    """Rows left for the id on every node, read from each node's own storage."""
    nodes = await cluster_nodes(settings)
    async with ClickHouse(settings) as clickhouse:
        await _check_column(clickhouse, settings.database, id_kind)
    where = id_predicate(id_kind, id_hash(id_value))
    counts = []
    for node in nodes:
        async with _on_node(settings, node) as clickhouse:
            count = 0
            for table in await _event_tables(clickhouse, settings.database):
                [(rows,)] = await clickhouse.execute(
                    f"SELECT count() FROM {settings.database}.{table} WHERE {where}"
                )
                count += int(rows)
            counts.append((node, count))
    return counts


# -- retention ------------------------------------------------------------------------


def expired_partitions(partitions: Iterable[str], *, days: int, today: date) -> list[str]:
    """Monthly partitions (YYYYMM) whose every day is older than `days` days."""
    cutoff = date.fromordinal(today.toordinal() - days)
    expired = []
    for partition in sorted(set(partitions)):
        year, month = int(partition[:4]), int(partition[4:6])
        following = date(year + month // 12, month % 12 + 1, 1)
        if following <= cutoff:
            expired.append(partition)
    return expired


async def apply_retention(
    settings: ClickHouseSettings,
    *,
    days: int,
    today: date,
    progress: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Drop the events' whole months older than `days` on every node; returns them.

    ClickHouse 18.16 has no TTL (19.6 added it), and a month is the events'
    partition, so retention is kept to the month: up to a month longer than asked.
    """
    if days < 1:
        raise ErasureError("retention needs at least 1 day")
    nodes = await cluster_nodes(settings)
    partitions: set[str] = set()
    for node in nodes:
        async with _on_node(settings, node) as clickhouse:
            rows = await clickhouse.execute(
                "SELECT DISTINCT partition FROM system.parts WHERE active AND database = "
                f"{_literal(settings.database)} AND table = 'events_local'"
            )
            partitions.update(str(partition) for (partition,) in rows)
    expired = expired_partitions(partitions, days=days, today=today)
    on_cluster = f"ON CLUSTER {settings.cluster}" if settings.replicated else ""
    async with ClickHouse(settings, ddl=True) as clickhouse:
        for partition in expired:
            progress(f"dropping partition {partition}")
            await clickhouse.execute(
                f"ALTER TABLE {settings.database}.events_local {on_cluster} "
                f"DROP PARTITION {int(partition)}"
            )
    return expired
