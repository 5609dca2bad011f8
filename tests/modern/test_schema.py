"""What modern ClickHouse does differently with the project's schema and settings."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from chdb import ChdbError

from clickstream.clickhouse import migrations
from clickstream.config import ClickHouseSettings
from tests.modern.engine import ModernClickHouse
from tests.modern.ingest import SERVER_INSERT_SETTINGS, envelopes, write
from tests.views_cases import DATA

MIGRATIONS = migrations.load()
REPLICATED = ClickHouseSettings(replicated=True)
_COMMENT = re.compile(r"--[^\n]*")
_SETTINGS_CLAUSE = re.compile(r"\bSETTINGS\b(.*?)(?=\bFORMAT\b|\)|$)", re.IGNORECASE | re.DOTALL)


def _named(migration: migrations.Migration) -> str:
    return f"{migration.version:04d}_{migration.name}"


@pytest.mark.parametrize("migration", MIGRATIONS, ids=_named)
def test_the_replicated_form_parses(
    clickhouse: ModernClickHouse, migration: migrations.Migration
) -> None:
    """chDB has no Keeper and no cluster DDL queue: the cluster form can only be parsed here."""
    statement = migration.render(REPLICATED, "clickstream")
    [(formatted,)] = clickhouse.execute(
        "SELECT formatQuerySingleLine({sql:String})", {"sql": statement}
    )
    if formatted.startswith("INSERT INTO"):  # a backfill: through a Distributed table,
        # or into a table every node is a replica of
        assert formatted.startswith(
            (
                "INSERT INTO clickstream.events_recent ",
                "INSERT INTO clickstream.rollup_traffic_by_hour ",
            )
        )
        return
    assert f"ON CLUSTER {REPLICATED.cluster}" in formatted


def test_a_syntax_error_fails_the_parse_check(clickhouse: ModernClickHouse) -> None:
    with pytest.raises(ChdbError, match="SYNTAX_ERROR"):
        clickhouse.execute(
            "SELECT formatQuerySingleLine({sql:String})",
            {"sql": "CREATE TABLE db.t ON CLUSTER clickstream (a UInt8"},
        )


def test_the_analyzer_is_on_and_cannot_be_turned_off(clickhouse: ModernClickHouse) -> None:
    """So every migration and view in this tier ran through the new analyzer."""
    assert clickhouse.execute("SELECT getSetting('enable_analyzer')") == [(True,)]
    with pytest.raises(ChdbError, match="SETTING_CONSTRAINT_VIOLATION"):
        clickhouse.execute("SELECT 1 SETTINGS enable_analyzer = 0")


def _sent_settings() -> set[str]:
    """Every setting the project sends: the writer's and any SETTINGS clause in the SQL files."""
    names = set(SERVER_INSERT_SETTINGS)
    for migration in MIGRATIONS:
        sql = _COMMENT.sub("", migration.template)
        for clause in _SETTINGS_CLAUSE.findall(sql):
            names.update(re.findall(r"(\w+)\s*=", clause))
    return names


@pytest.mark.parametrize("name", sorted(_sent_settings()))
def test_no_setting_we_send_is_obsolete(clickhouse: ModernClickHouse, name: str) -> None:
    """An obsolete setting is accepted and ignored: the behaviour it asked for is gone silently."""
    known = clickhouse.execute(
        "SELECT is_obsolete FROM system.settings WHERE name = {name:String} "
        "UNION ALL SELECT is_obsolete FROM system.merge_tree_settings WHERE name = {name:String}",
        {"name": name},
    )
    assert known, f"{name} is not a setting on modern ClickHouse"
    assert not any(obsolete for (obsolete,) in known), f"{name} is obsolete on modern ClickHouse"


def _one_event_per_month(months: int) -> list[bytes]:
    bodies = []
    for month in range(months):
        body = dict(DATA[0], event_id=None)
        body["timestamp"] = f"{2000 + month // 12}-{month % 12 + 1:02d}-01T00:00:00Z"
        bodies.append(body)
    return envelopes(bodies)


def test_an_insert_block_may_span_100_months(
    clickhouse: ModernClickHouse, migrate: Callable[[str], str]
) -> None:
    database = migrate("partitions_100")
    write(clickhouse, database, _one_event_per_month(100))
    assert clickhouse.execute(f"SELECT count() FROM {database}.events_local") == [(100,)]


def test_an_insert_block_spanning_101_months_is_refused(
    clickhouse: ModernClickHouse, migrate: Callable[[str], str]
) -> None:
    """max_partitions_per_insert_block (100) refuses the whole block, code 252.

    The API accepts any timestamp in [2000, 2100), so one batch can carry this.
    """
    database = migrate("partitions_101")
    with pytest.raises(ChdbError) as refused:
        write(clickhouse, database, _one_event_per_month(101))
    message = str(refused.value)
    assert "Code: 252" in message
    assert "Too many partitions for single INSERT block (more than 100)" in message
    assert clickhouse.execute(f"SELECT count() FROM {database}.events_local") == [(0,)]
