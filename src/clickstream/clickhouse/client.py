"""The one place that talks to ClickHouse (through asynch, the native protocol)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from asynch import Connection
from asynch.errors import ClickHouseException, ServerException

from clickstream.config import ClickHouseSettings

# What a caller may catch without importing asynch.
ClickHouseError = (ClickHouseException, OSError, EOFError, TimeoutError)


def error_code(error: BaseException) -> tuple[int, str] | None:
    """ClickHouse's error code and message, or None for a plain network or OS error.

    A `ServerException` is the server's own verdict; asynch's other exceptions
    carry a code of the same table (210 NETWORK_ERROR, 209 SOCKET_TIMEOUT, ...).
    """
    code = getattr(error, "code", None)
    if not isinstance(error, ClickHouseException) or not isinstance(code, int):
        return None
    return code, str(error.message if isinstance(error, ServerException) else error)


# A DDL connection reads this much longer than the server waits for its nodes,
# so the server's own timeout, not ours, ends a statement a node never runs.
DDL_READ_MARGIN_S = 30.0


class ClickHouse:
    """A connection that reconnects on the next call after a failure.

    `ddl=True` is for schema changes, which ClickHouse answers only when every
    node of the cluster has run them: the connection waits `ddl_timeout_s` for
    that instead of a query's `send_receive_timeout_s`.

    The server's own wait is set with a `SET` statement on the connection, not
    as a query setting: asynch writes Int64 settings unsigned, which a server
    that reads settings in binary (ClickHouse 18.16) takes as zigzag, so 180
    arrived as 90.
    """

    def __init__(
        self, settings: ClickHouseSettings, *, database: str | None = None, ddl: bool = False
    ) -> None:
        self._settings = settings
        self._database = database if database is not None else "default"
        self._connection: Connection | None = None
        self._read_timeout_s = settings.send_receive_timeout_s
        # Sent once per connection (see above); None for a plain one.
        self._session_setup: str | None = None
        if ddl:
            self._read_timeout_s = max(
                self._read_timeout_s, settings.ddl_timeout_s + DDL_READ_MARGIN_S
            )
            self._session_setup = f"SET distributed_ddl_task_timeout = {settings.ddl_timeout_s}"

    async def _connect(self) -> Connection:
        if self._connection is None:
            connection = Connection(
                host=self._settings.host,
                port=self._settings.port,
                alt_hosts=self._settings.alt_hosts or None,
                user=self._settings.user,
                password=self._settings.password.get_secret_value(),
                database=self._database,
                connect_timeout=self._settings.connect_timeout_s,
                send_receive_timeout=self._read_timeout_s,
            )
            await connection.connect()
            try:
                if self._session_setup is not None:
                    async with connection.cursor() as cursor:
                        await cursor.execute(self._session_setup)
            except BaseException:
                with contextlib.suppress(*ClickHouseError):
                    await connection.close()
                raise
            self._connection = connection
        return self._connection

    async def execute(
        self,
        query: str,
        rows: Sequence[Sequence[Any]] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        connection = await self._connect()
        try:
            async with connection.cursor() as cursor:
                if settings:
                    cursor.set_settings(settings)  # type: ignore[no-untyped-call]
                await cursor.execute(query, rows)
                return list(await cursor.fetchall()) if rows is None else []
        except BaseException:
            # The socket may be mid-packet: never reuse it.
            await self.close()
            raise

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(*ClickHouseError):
                await connection.close()

    async def __aenter__(self) -> ClickHouse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
