"""Modern ClickHouse in this process (chDB), answering like the project's client does.

chDB is `clickhouse-local` as a library: no server, no ports to share with the
other tiers. A Distributed table still needs a cluster, so the config file
declares `clickstream` with one shard whose only replica is chDB's own
`tcp_port`, and the migrations' Distributed/MV chain runs as on one node.
"""

from __future__ import annotations

import datetime
import os
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

# chDB ignores the config's <timezone>; the process zone is what it falls back on.
os.environ["TZ"] = "UTC"
time.tzset()

from chdb import session  # noqa: E402  (after TZ, which it reads when it loads)

_CONFIG = """<clickhouse>
    <tcp_port>{tcp_port}</tcp_port>
    <remote_servers>
        <{cluster}>
            <shard><replica><host>127.0.0.1</host><port>{tcp_port}</port></replica></shard>
        </{cluster}>
    </remote_servers>
</clickhouse>
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _literal(value: object) -> str:
    if isinstance(value, bool | int):
        return str(int(value))
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def _typed(value: Any, type_name: str) -> Any:
    """JSONCompact cell -> the Python value asynch gives for that type."""
    if value is None:
        return None
    if type_name.startswith("Float"):
        return float(value)  # "nan"/"inf" arrive quoted (output_format_json_quote_denormals)
    if type_name.startswith(("Int", "UInt")):
        return int(value)
    if type_name == "Date":
        return datetime.date.fromisoformat(value)
    return value  # DateTime stays text: select toString() or a Date to compare across engines


_SESSION: Any = session.Session


class ModernClickHouse:
    def __init__(self, directory: Path, *, cluster: str) -> None:
        config = directory / "config.xml"
        config.write_text(_CONFIG.format(tcp_port=_free_port(), cluster=cluster))
        # chDB's Python API is untyped: held as Any, so strict mypy accepts its calls.
        self._session: Any = _SESSION(f"file:{directory / 'data'}?config-file={config}")
        self._query("SET session_timezone = 'UTC'")
        self._query("SET output_format_json_quote_denormals = 1")

    def _query(self, sql: str, params: Mapping[str, str] | None = None) -> bytes:
        result = self._session.query(sql, "JSONCompact", params=dict(params or {}))
        text: bytes = result.bytes()
        return text

    def execute(self, sql: str, params: Mapping[str, str] | None = None) -> list[tuple[Any, ...]]:
        # Parameter values are read in the escaped (TSV) form: a raw newline would end one.
        escaped = {name: _escaped(value) for name, value in (params or {}).items()}
        text = self._query(sql, escaped)
        if not text:
            return []  # DDL and INSERT answer nothing
        result = orjson.loads(text)
        types = [column["type"] for column in result["meta"]]
        return [
            tuple(_typed(cell, type_name) for cell, type_name in zip(row, types, strict=True))
            for row in result["data"]
        ]

    def insert_strings(
        self, table: str, column: str, values: Sequence[bytes], settings: Mapping[str, object]
    ) -> None:
        """One INSERT, one block: each value into `column` as the bytes it is (UTF-8 text).

        Not chDB's send_insert: its finish() reported a refused block (code 252)
        as written, and the rows were gone.
        """
        clause = ", ".join(f"{name} = {_literal(value)}" for name, value in settings.items())
        clause = f"SETTINGS {clause}" if clause else ""
        rows = b"\n".join(orjson.dumps({column: value.decode()}) for value in values)
        self._query(f"INSERT INTO {table} ({column}) {clause} FORMAT JSONEachRow\n{rows.decode()}")

    def close(self) -> None:
        self._session.close()
