"""Modern ClickHouse in-process (chDB, analyzer on), driven like the server.

The project's single-node DDL runs unchanged: a config file declares the
`clickstream` cluster as this process itself (its tcp_port is never opened;
it only makes the one replica local), so `events` stays a Distributed table
exactly as on a real node. `Chdb.execute` has the shape of
`clickstream.clickhouse.client.ClickHouse.execute` for what the rollup job
and the tests use: SQL in, rows of JSON values out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clickstream.clickhouse.migrations import load
from clickstream.config import ClickHouseSettings

_CONFIG = """<clickhouse>
  <tcp_port>{port}</tcp_port>
  <remote_servers><{cluster}><shard><replica>
    <host>localhost</host><port>{port}</port>
  </replica></shard></{cluster}></remote_servers>
</clickhouse>
"""
# Never listened on; only compared with the replica's port to make it local.
_UNUSED_PORT = 39_997


class Chdb:
    def __init__(self, folder: Path, settings: ClickHouseSettings | None = None) -> None:
        from chdb import session

        self.settings = settings or ClickHouseSettings()
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "config.xml"
        config.write_text(_CONFIG.format(port=_UNUSED_PORT, cluster=self.settings.cluster))
        self._session = session.Session(f"{folder / 'data'}?config-file={config}")

    def query(self, sql: str, settings: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if settings:
            sql += " SETTINGS " + ", ".join(f"{key} = {value}" for key, value in settings.items())
        result = self._session.query(sql, "JSONCompact")
        text = result.bytes().decode() if result is not None else ""
        if not text.strip():
            return []
        return [tuple(row) for row in json.loads(text)["data"]]

    async def execute(
        self, query: str, *, settings: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        return self.query(query, settings)

    def migrate(self, database: str) -> None:
        for migration in load():
            self.query(migration.render(self.settings, database))

    def close(self) -> None:
        self._session.close()
