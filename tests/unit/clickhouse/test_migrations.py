"""The numbered SQL migrations: numbering, one statement each, both topologies, the runner."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

import pytest
from asynch.errors import ServerException

from clickstream.clickhouse import migrations
from clickstream.clickhouse.migrations import Migration, adds_columns, load, migrate
from clickstream.config import ClickHouseSettings

SINGLE = ClickHouseSettings(replicated=False)
CLUSTER = ClickHouseSettings(replicated=True, cluster="clickstream")
FILE_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")
ALL = load()


def by_name(name: str) -> Migration:
    (found,) = [migration for migration in ALL if migration.name == name]
    return found


def without_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def sql_files() -> list[str]:
    folder = resources.files("clickstream.clickhouse").joinpath("sql")
    return sorted(entry.name for entry in folder.iterdir() if entry.name != "__pycache__")


def test_every_file_in_the_folder_is_a_numbered_migration() -> None:
    names = sql_files()

    assert names, "no migrations found"
    assert [name for name in names if not FILE_NAME.match(name)] == []
    assert [f"{m.version:04d}_{m.name}.sql" for m in ALL] == names


def test_versions_are_1_to_n_without_gaps_or_repeats() -> None:
    versions = [migration.version for migration in ALL]

    assert versions == list(range(1, len(versions) + 1))


def test_the_schema_starts_with_the_database_and_the_storage_table() -> None:
    assert [m.name for m in ALL[:5]] == [
        "database",
        "events_local",
        "events",
        "events_ingest",
        "events_ingest_mv",
    ]


@pytest.mark.parametrize("migration", ALL, ids=lambda m: m.name)
def test_each_file_holds_exactly_one_statement(migration: Migration) -> None:
    statement = without_comments(migration.template).strip().removesuffix(";").strip()

    assert statement
    assert ";" not in statement


@pytest.mark.parametrize("migration", ALL, ids=lambda m: m.name)
def test_each_statement_is_idempotent(migration: Migration) -> None:
    sql = without_comments(migration.template).strip()

    if adds_columns(sql):
        # 18.16 has no ADD COLUMN IF NOT EXISTS: the runner tolerates "already exists".
        assert "IF NOT EXISTS" not in sql, "ClickHouse 18.16 cannot parse it"
        return
    if sql.startswith("INSERT INTO"):
        # A backfill: its comment must say why running it twice changes nothing.
        assert "Repeatable" in migration.template
        return
    assert ("IF EXISTS" if sql.startswith("DROP") else "IF NOT EXISTS") in sql


@pytest.mark.parametrize("migration", ALL, ids=lambda m: m.name)
def test_cluster_rendering_runs_on_the_whole_cluster(migration: Migration) -> None:
    sql = migration.render(CLUSTER, "analytics")

    assert "${" not in sql
    # A backfill writes through a Distributed table, which reaches every shard itself,
    # or into a table every node is a replica of.
    assert "ON CLUSTER clickstream" in sql or sql.lstrip("-").split("\nINSERT INTO ")[
        -1
    ].startswith(("analytics.events_recent\n", "analytics.rollup_traffic_by_hour\n"))
    assert "analytics." in sql or "DATABASE IF NOT EXISTS analytics" in sql


@pytest.mark.parametrize("migration", ALL, ids=lambda m: m.name)
def test_single_node_rendering_has_no_cluster_clause(migration: Migration) -> None:
    sql = migration.render(SINGLE, "analytics")

    assert "${" not in sql
    assert "ON CLUSTER" not in without_comments(sql)
    assert "Replicated" not in without_comments(sql)


def test_cluster_storage_table_is_replicated_per_shard() -> None:
    sql = by_name("events_local").render(CLUSTER, "analytics")

    assert (
        "ENGINE = ReplicatedReplacingMergeTree("
        "'/clickhouse/tables/{shard}/analytics/events_local', '{replica}')"
    ) in sql


def test_single_node_storage_table_is_replacing_merge_tree() -> None:
    sql = by_name("events_local").render(SINGLE, "analytics")

    assert "ENGINE = ReplacingMergeTree()" in sql


def test_cluster_name_comes_from_the_settings() -> None:
    settings = ClickHouseSettings(replicated=True, cluster="other")

    sql = by_name("events").render(settings, "analytics")

    assert "ON CLUSTER other" in sql
    assert "Distributed(other, analytics, events_local," in sql


@pytest.mark.parametrize("settings", [SINGLE, CLUSTER], ids=["single", "cluster"])
def test_storage_table_has_no_server_side_defaults(settings: ClickHouseSettings) -> None:
    sql = without_comments(by_name("events_local").render(settings, "analytics")).lower()

    assert "now(" not in sql
    assert "rand" not in sql
    assert "default" not in sql
    assert "materialized" not in sql


def test_storage_key_ends_in_event_id_so_repeats_collapse() -> None:
    sql = by_name("events_local").template

    assert re.search(r"ORDER BY \([^)]*\bevent_id\)", sql)


# -- the runner, against a fake connection ---------------------------------------------


class FakeClickHouse:
    """Answers `SELECT version` with `done`; records every statement."""

    def __init__(self, done: Sequence[int]) -> None:
        self.done = done
        self.statements: list[tuple[str, Any]] = []
        self.closed = False
        self.ddl = False

    def __call__(self, settings: ClickHouseSettings, *, ddl: bool = False) -> FakeClickHouse:
        self.ddl = ddl
        return self

    async def __aenter__(self) -> FakeClickHouse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.closed = True

    async def execute(self, query: str, rows: Any = None) -> list[tuple[Any, ...]]:
        self.statements.append((query, rows))
        if query.startswith("SELECT version"):
            return [(version,) for version in self.done]
        return []


@pytest.mark.parametrize("done", [[], [1, 2], list(range(1, len(ALL) + 1))])
async def test_migrate_applies_what_has_not_run_and_records_it(
    monkeypatch: pytest.MonkeyPatch, done: list[int]
) -> None:
    fake = FakeClickHouse(done)
    monkeypatch.setattr(migrations, "ClickHouse", fake)

    applied = await migrate(SINGLE, database="analytics")

    pending = [m for m in ALL if m.version not in done]
    assert applied == [f"{m.version:04d}_{m.name}" for m in pending]
    recorded = [rows for query, rows in fake.statements if query.startswith("INSERT")]
    assert recorded == [[(m.version, m.name)] for m in pending]
    queries = [query for query, _ in fake.statements]
    assert queries[0] == ALL[0].render(SINGLE, "analytics"), "the database comes first"
    assert queries[1].startswith("CREATE TABLE IF NOT EXISTS analytics.schema_migrations")
    assert queries[2] == "SELECT version FROM analytics.schema_migrations"
    for migration in pending:
        assert migration.render(SINGLE, "analytics") in queries
    assert fake.closed
    assert fake.ddl, "a migration waits for every node, not a query's read timeout"


class ColumnsAlreadyThere(FakeClickHouse):
    """A server on which an earlier, interrupted run already added the columns."""

    def __init__(self, done: Sequence[int], error: str) -> None:
        super().__init__(done)
        self.error = error

    async def execute(self, query: str, rows: Any = None) -> list[tuple[Any, ...]]:
        if adds_columns(query):
            self.statements.append((query, rows))
            raise ServerException(self.error, code=44)  # type: ignore[no-untyped-call]
        return await super().execute(query, rows)


async def test_an_add_column_that_already_ran_counts_as_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = ColumnsAlreadyThere(
        [], "Cannot add column client_timestamp: column with this name already exists"
    )
    monkeypatch.setattr(migrations, "ClickHouse", fake)

    applied = await migrate(SINGLE, database="analytics")

    assert len(applied) == len(ALL)
    assert any(adds_columns(query) for query, _ in fake.statements), "the ALTERs were tried"


async def test_another_add_column_error_still_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ColumnsAlreadyThere([], "Wrong column type")
    monkeypatch.setattr(migrations, "ClickHouse", fake)

    with pytest.raises(ServerException):
        await migrate(SINGLE, database="analytics")
