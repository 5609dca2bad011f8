"""The ETL's row writer, aimed at chDB: the loader's seam, answering as ClickHouse over asynch.

Same table, same column, same server-side insert settings as
`clickstream.clickhouse.writer.ClickHouseWriter`; only the transport differs.
A refusal comes back as the `ServerException` asynch would raise for it, so
`clickhouse.client.error_code()` and the loader's classification read chDB's
verdict exactly as they read a server's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from asynch.errors import ServerException
from chdb import ChdbError

from clickstream.clickhouse.writer import TABLE
from tests.modern.engine import ModernClickHouse
from tests.modern.ingest import write

# chDB's text of a server exception: "Code: 252. DB::Exception: Too many ... (TOO_MANY_PARTITIONS)".
_CODED = re.compile(r"Code: (\d+)\. (.*)", re.DOTALL)


def coded(error: ChdbError) -> tuple[int, str] | None:
    """The server's code and message in chDB's error text; None if it has no code."""
    found = _CODED.match(str(error))
    return None if found is None else (int(found[1]), found[2])


class ModernWriter:
    """A `RowWriter` that inserts into chDB; keeps every refusal it passed on, for the tests."""

    def __init__(self, clickhouse: ModernClickHouse, database: str) -> None:
        self.database = database
        self.table = TABLE
        self.insert_query = f"INSERT INTO {database}.{TABLE} (envelope) VALUES"
        self.host = "chdb"
        self.port = 0
        self.refusals: list[tuple[int, str]] = []
        self.blocks: list[int] = []
        self._clickhouse = clickhouse

    async def write(self, rows: Sequence[bytes]) -> None:
        self.blocks.append(len(rows))
        try:
            write(self._clickhouse, self.database, rows)
        except ChdbError as error:
            refusal = coded(error)
            if refusal is None:
                raise
            self.refusals.append(refusal)
            code, message = refusal
            # As asynch raises the server's: the message without "Code: N. ".
            raise ServerException(message, code) from error  # type: ignore[no-untyped-call]

    async def ping(self) -> None:
        self._clickhouse.execute("SELECT 1")

    async def close(self) -> None:
        """The session belongs to the test run, not to the writer."""

    def refused_with(self, code: int) -> list[str]:
        return [message for refused, message in self.refusals if refused == code]
