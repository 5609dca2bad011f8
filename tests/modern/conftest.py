"""The modern tier: the project's schema and views on chDB (modern ClickHouse), no stack.

One chDB session serves the whole run (chDB is one engine per process); each
fixture that loads data migrates a database of its own in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from clickstream.clickhouse import migrations
from clickstream.config import ClickHouseSettings
from tests.views_cases import DATA, RETRIED

try:
    from tests.modern.engine import ModernClickHouse
except ModuleNotFoundError as missing:
    raise ImportError("tests/modern runs on chDB: `make test-modern` installs it") from missing
from tests.modern.ingest import envelopes, write

SINGLE = ClickHouseSettings(replicated=False)


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModernClickHouse]:
    engine = ModernClickHouse(tmp_path_factory.mktemp("chdb"), cluster=SINGLE.cluster)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def migrate(clickhouse: ModernClickHouse) -> Callable[[str], str]:
    """Every migration, single-node form, into a new database; returns its name."""

    def apply(database: str) -> str:
        for migration in migrations.load():
            clickhouse.execute(migration.render(SINGLE, database))
        return database

    return apply


@pytest.fixture(scope="session")
def loaded(clickhouse: ModernClickHouse, migrate: Callable[[str], str]) -> str:
    """The views' data set, ingested through the materialized view; the database name."""
    database = migrate("views")
    # A merge would collapse the retried rows and hide a view that forgot FINAL.
    clickhouse.execute(f"SYSTEM STOP MERGES {database}.events_local")
    write(clickhouse, database, envelopes(DATA))
    write(clickhouse, database, envelopes(RETRIED))
    return database
