"""What ClickHouse holds, read over each node's HTTP interface.

HTTP rather than the pipeline's own client: the oracle should not share code
with what it checks, and a node that is down is just a refused connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass

import httpx

from clickstream_local.components import ClickHouseNode

QUERY_TIMEOUT_S = 30.0


class NoNodeAnswered(RuntimeError):
    pass


@dataclass(frozen=True)
class Snapshot:
    """One database's event ids: as analysts see them, raw, and per node."""

    final: Counter[str]
    raw: Counter[str]
    # (shard, replica) -> distinct ids in that node's events_local, after FINAL.
    per_node: dict[tuple[int, int], frozenset[str]]

    def replicas_disagree(self) -> list[str]:
        """Shards whose replicas hold different ids, described."""
        shards: dict[int, list[tuple[int, frozenset[str]]]] = {}
        for (shard, replica), ids in sorted(self.per_node.items()):
            shards.setdefault(shard, []).append((replica, ids))
        problems = []
        for shard, replicas in shards.items():
            (first, ids), *others = replicas
            for replica, other in others:
                if other != ids:
                    problems.append(
                        f"shard {shard}: replica {first} has {len(ids)} ids, replica {replica} "
                        f"{len(other)} ({len(ids ^ other)} differ)"
                    )
        return problems


class ClickHouseNodes:
    def __init__(self, nodes: list[ClickHouseNode], client: httpx.AsyncClient) -> None:
        self.nodes = nodes
        self._client = client

    async def query(self, node: ClickHouseNode, sql: str) -> list[list[str]]:
        """Rows as TabSeparated fields; raises on any failure."""
        response = await self._client.post(
            f"http://127.0.0.1:{node.http_port}/", content=sql.encode(), timeout=QUERY_TIMEOUT_S
        )
        if response.status_code != 200:
            raise RuntimeError(f"clickhouse {node.port}: {response.text.strip()[:500]}")
        return [line.split("\t") for line in response.text.splitlines()]

    async def query_any(self, sql: str) -> list[list[str]]:
        """Ask the nodes in turn until one answers (some may be down on purpose)."""
        errors = []
        for node in self.nodes:
            try:
                return await self.query(node, sql)
            except (httpx.HTTPError, RuntimeError) as error:
                errors.append(f"{node.port}: {error!r}")
        raise NoNodeAnswered("; ".join(errors))

    async def count(self, database: str) -> int:
        rows = await self.query_any(f"SELECT count() FROM {database}.events")
        return int(rows[0][0])

    async def ids(self, database: str, *, final: bool) -> Counter[str]:
        rows = await self.query_any(
            f"SELECT toString(event_id) FROM {database}.events {'FINAL' if final else ''}"
        )
        return Counter(row[0] for row in rows)

    async def shard_rows(self, database: str) -> int:
        """Raw rows written: per shard the fullest replica, summed (replication adds none)."""
        counts = await asyncio.gather(
            *(self.query(n, f"SELECT count() FROM {database}.events_local") for n in self.nodes),
            return_exceptions=True,
        )
        per_shard: dict[int, int] = {}
        for node, answer in zip(self.nodes, counts, strict=True):
            if not isinstance(answer, BaseException):
                per_shard[node.shard] = max(per_shard.get(node.shard, 0), int(answer[0][0]))
        return sum(per_shard.values())

    async def node_rows(self, database: str, node: ClickHouseNode) -> int:
        """Raw rows in one node's events_local."""
        rows = await self.query(node, f"SELECT count() FROM {database}.events_local")
        return int(rows[0][0])

    async def local_ids(self, database: str) -> set[str]:
        """Every id any reachable node holds in events_local, raw."""
        found: set[str] = set()
        for node in self.nodes:
            with contextlib.suppress(httpx.HTTPError, RuntimeError):
                rows = await self.query(
                    node, f"SELECT toString(event_id) FROM {database}.events_local"
                )
                found.update(row[0] for row in rows)
        return found

    async def snapshot(self, database: str) -> Snapshot:
        per_node = {}
        for node in self.nodes:
            rows = await self.query(
                node, f"SELECT toString(event_id) FROM {database}.events_local FINAL"
            )
            per_node[(node.shard, node.replica)] = frozenset(row[0] for row in rows)
        return Snapshot(
            final=await self.ids(database, final=True),
            raw=await self.ids(database, final=False),
            per_node=per_node,
        )

    async def databases_named(self, prefix: str) -> set[str]:
        """`port:database` for every database whose name starts with `prefix`, on any node."""
        found: set[str] = set()
        for node in self.nodes:
            rows = await self.query(
                node, f"SELECT name FROM system.databases WHERE startsWith(name, '{prefix}')"
            )
            found.update(f"{node.port}:{row[0]}" for row in rows)
        return found

    async def drop_database(self, database: str, cluster: str) -> None:
        await self.query_any(f"DROP DATABASE IF EXISTS {database} ON CLUSTER {cluster}")
