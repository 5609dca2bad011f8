"""Numbered SQL migrations, one statement per file, applied in order.

`sql/NNNN_name.sql` files beside this module are templates (`string.Template`):
`${database}`, `${cluster}`, `${on_cluster}` and `${replacing_engine}` are
filled from the settings, so the same files serve one node (`single`) and the
sharded, replicated cluster. A file creating table T may also use
`${sharded_aggregating_engine}` and `${sharded_replacing_engine}` (one copy
per shard, like events_local) and
`${global_merge_engine}` (small tables every node holds whole: rollups and
their bookkeeping; `${global_replacing_engine}` keeps the latest `build_id` of
a key), whose ZooKeeper paths end in T. An analyst view's body
is `${raw_<question>}` or `${served_<question>}` (`${served_v1_<question>}`:
the first design's, for the migrations that created it), rendered from the
question's one file in `rollup_sql/` (a changed question needs a new
migration that re-creates its views: applied ones never run again). Every statement is idempotent (`IF NOT EXISTS`);
what ran is recorded in `<database>.schema_migrations` on the node we talk to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from string import Template

from clickstream.clickhouse.client import ClickHouse, ClickHouseError, error_code
from clickstream.clickhouse.rollups import QUESTIONS
from clickstream.config import ClickHouseSettings

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# "Table X isn't replicated, but shard #N is replicated according to its
# cluster definition": ClickHouse 18.16 refuses an ALTER ... ON CLUSTER of a
# table that is not replicated itself (the Distributed `events`) on a cluster
# whose shards use internal replication.
NOT_REPLICATED_ON_CLUSTER = 371
# Replicated tables need a ZooKeeper path unique per shard and table; the
# {shard}/{replica} macros come from each server's config (or the operator).
_REPLICATED = "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/${database}/events_local', '{replica}')"
# Replica names (`s1r2`) are unique across the cluster, so a path without
# {shard} makes every node a replica of one table.
_SHARDED_AGGREGATING = (
    "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/${database}/${table}', '{replica}')"
)
_SHARDED_REPLACING = (
    "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/${database}/${table}', '{replica}')"
)
_GLOBAL_MERGE = "ReplicatedMergeTree('/clickhouse/tables/global/${database}/${table}', '{replica}')"
# The latest build of a key wins (hourly rollups: one row per hour, versioned by build_id).
_GLOBAL_REPLACING = (
    "ReplicatedReplacingMergeTree("
    "'/clickhouse/tables/global/${database}/${table}', '{replica}', build_id)"
)
_CREATED_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS \$\{database\}\.(\w+)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    template: str

    def render(
        self, settings: ClickHouseSettings, database: str, *, on_cluster: bool = True
    ) -> str:
        replicated = settings.replicated
        params = {
            "database": database,
            "cluster": settings.cluster,
            "on_cluster": f"ON CLUSTER {settings.cluster}" if replicated and on_cluster else "",
            "replacing_engine": (
                Template(_REPLICATED).substitute(database=database)
                if replicated
                else "ReplacingMergeTree()"
            ),
        }
        # The analyst views' bodies, written once in rollup_sql/ (rollups.Rollup);
        # rendered only for the migration that names them.
        for rollup in QUESTIONS:
            if f"${{raw_{rollup.name}}}" in self.template:
                params[f"raw_{rollup.name}"] = rollup.raw_sql(database)
            if f"${{served_v1_{rollup.name}}}" in self.template:
                params[f"served_v1_{rollup.name}"] = rollup.served_sql_v1(database)
            if f"${{served_{rollup.name}}}" in self.template:
                params[f"served_{rollup.name}"] = rollup.served_sql(database, single=not replicated)
        created = _CREATED_TABLE.search(self.template)
        if created:
            names = {"database": database, "table": created.group(1)}
            params["sharded_aggregating_engine"] = (
                Template(_SHARDED_AGGREGATING).substitute(names)
                if replicated
                else "AggregatingMergeTree()"
            )
            params["sharded_replacing_engine"] = (
                Template(_SHARDED_REPLACING).substitute(names)
                if replicated
                else "ReplacingMergeTree()"
            )
            params["global_merge_engine"] = (
                Template(_GLOBAL_MERGE).substitute(names) if replicated else "MergeTree()"
            )
            params["global_replacing_engine"] = (
                Template(_GLOBAL_REPLACING).substitute(names)
                if replicated
                else "ReplacingMergeTree(build_id)"
            )
        return Template(self.template).substitute(params).strip()


def load() -> list[Migration]:
    """Every migration, in order; the numbering is checked by a unit test."""
    folder = resources.files(__package__).joinpath("sql")
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def _record_table(settings: ClickHouseSettings, database: str) -> str:
    on_cluster = f"ON CLUSTER {settings.cluster}" if settings.replicated else ""
    return (
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations {on_cluster} "
        "(version UInt32, name String, applied_at DateTime('UTC') DEFAULT now()) "
        "ENGINE = MergeTree() ORDER BY version"
    )


async def migrate(settings: ClickHouseSettings, database: str | None = None) -> list[str]:
    """Apply what has not run yet; returns the names applied."""
    database = database or settings.database
    migrations = load()
    applied: list[str] = []
    async with ClickHouse(settings, ddl=True) as clickhouse:
        # 0001 creates the database itself; it must run before the record table.
        first = migrations[0]
        await clickhouse.execute(first.render(settings, database))
        await clickhouse.execute(_record_table(settings, database))
        done = {
            int(row[0])
            for row in await clickhouse.execute(f"SELECT version FROM {database}.schema_migrations")
        }
        for migration in migrations:
            if migration.version in done:
                continue
            try:
                await _apply(clickhouse, migration.render(settings, database))
            except ClickHouseError as error:
                refusal = error_code(error)
                if refusal is None or refusal[0] != NOT_REPLICATED_ON_CLUSTER:
                    raise
                # The same statement on every node in turn, each its own.
                local = migration.render(settings, database, on_cluster=False)
                for node in await _cluster_nodes(clickhouse, settings):
                    async with ClickHouse(node, ddl=True) as each:
                        await _apply(each, local)
            await clickhouse.execute(
                f"INSERT INTO {database}.schema_migrations (version, name) VALUES",
                [(migration.version, migration.name)],
            )
            applied.append(f"{migration.version:04d}_{migration.name}")
    return applied


async def _cluster_nodes(
    clickhouse: ClickHouse, settings: ClickHouseSettings
) -> list[ClickHouseSettings]:
    """Connection settings for every node of the cluster, as the cluster defines them."""
    rows = await clickhouse.execute(
        "SELECT host_address, port FROM system.clusters "
        f"WHERE cluster = '{settings.cluster}' ORDER BY shard_num, replica_num"
    )
    return [
        settings.model_copy(update={"host": str(host), "port": int(port), "alt_hosts": ""})
        for host, port in rows
    ]


def adds_columns(sql: str) -> bool:
    """An `ALTER TABLE ... ADD COLUMN` statement (its leading comments aside)."""
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return code.lstrip().upper().startswith("ALTER TABLE") and "ADD COLUMN" in code.upper()


async def _apply(clickhouse: ClickHouse, sql: str) -> None:
    """Run one statement; an ADD COLUMN that already ran counts as done.

    ClickHouse 18.16 has no `ADD COLUMN IF NOT EXISTS`, so column additions are
    written plainly and made idempotent here: a run interrupted after the ALTER
    but before its record re-runs it and finds the columns there.
    """
    try:
        await clickhouse.execute(sql)
    except ClickHouseError as error:
        refusal = error_code(error)
        if not (adds_columns(sql) and refusal is not None and "already exists" in refusal[1]):
            raise
