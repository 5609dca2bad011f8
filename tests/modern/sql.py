"""ModernClickHouse behind the rollup job's `Sql` seam (clickstream.clickhouse.rollups)."""

from __future__ import annotations

from typing import Any

from tests.modern.engine import ModernClickHouse


class AsyncSql:
    """The job awaits its queries and passes settings apart; chDB takes them in the SQL."""

    def __init__(self, clickhouse: ModernClickHouse) -> None:
        self.clickhouse = clickhouse

    async def execute(
        self, query: str, *, settings: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        if settings:
            query += " SETTINGS " + ", ".join(f"{key} = {value}" for key, value in settings.items())
        return self.clickhouse.execute(query)
