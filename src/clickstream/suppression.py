"""The suppression list: erased people's ids, which the ETL skips in every record it reads.

`clickstream erase` (privacy.py) puts the id's sha256 on the list first (every
node's `<db>_ingest.suppressed_ids`); the ETL re-reads the list every
`SUPPRESSION_REFRESH_S` and checks each consumed record against it, cheaply,
so a replay of Kafka or a dead-letter redrive cannot bring the rows back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Iterable

import orjson

from clickstream.clickhouse.client import ClickHouse, ClickHouseError
from clickstream.config import ClickHouseSettings

log = logging.getLogger(__name__)

ID_KINDS = ("user_id", "anonymous_id")
INGEST_SUFFIX = "_ingest"
# How often the ETL re-reads the suppression list; `erase` waits this long
# (and a margin) between adding an id and deleting its rows, so no record
# loaded in between escapes the delete.
SUPPRESSION_REFRESH_S = 10.0
# Ids whose verdict the ETL remembers, per kind, before starting over.
MEMO_MAX_IDS = 200_000


def id_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def ingest_database(database: str) -> str:
    """The ETL's own database beside `database` (migration 0020), or itself.

    The ETL is configured with the ingest database (its writer inserts into
    `<database>.events_ingest`, the door), everything else with the main one.
    """
    return database if database.endswith(INGEST_SUFFIX) else database + INGEST_SUFFIX


# -- the ETL's side -----------------------------------------------------------------


class Suppression:
    """The erased ids' hashes; `suppressed(value)` checks one Kafka record.

    Cheap on the ETL's hot path: nothing at all while the list is empty, else a
    substring search for each id key and one sha256 of its value. The envelope
    is flat JSON written by orjson (`"user_id":"..."`, no spaces), so a key's
    pattern cannot occur inside an escaped string value; anything else (an
    escape in the value, spaces, null) is parsed in full, exactly.
    """

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._hashes: dict[str, frozenset[str]] = {}
        # Per kind: the JSON key, the hashes, and the verdicts of ids seen so
        # far (one user sends many events; a dict lookup is cheaper than sha256).
        self._patterns: tuple[tuple[str, bytes, frozenset[str], dict[bytes, bool]], ...] = ()
        self.replace(entries)

    def replace(self, entries: Iterable[tuple[str, str]]) -> None:
        by_kind: dict[str, set[str]] = {}
        for kind, digest in entries:
            by_kind.setdefault(kind, set()).add(digest)
        self._hashes = {kind: frozenset(found) for kind, found in by_kind.items()}
        self._patterns = tuple(
            (kind, f'"{kind}"'.encode(), self._hashes[kind], {})
            for kind in ID_KINDS
            if self._hashes.get(kind)
        )

    def __len__(self) -> int:
        return sum(len(found) for found in self._hashes.values())

    def suppressed(self, value: bytes | None) -> bool:
        if not self._patterns or not value:
            return False
        for kind, key, hashes, seen in self._patterns:
            start = value.find(key)
            if start < 0:
                continue
            start += len(key)
            if value[start : start + 2] == b':"':
                end = value.find(b'"', start + 2)
                raw = value[start + 2 : end]
                if end > 0 and b"\\" not in raw:
                    erased = seen.get(raw)
                    if erased is None:
                        erased = hashlib.sha256(raw).hexdigest() in hashes
                        if len(seen) >= MEMO_MAX_IDS:
                            seen.clear()
                        seen[raw] = erased
                    if erased:
                        return True
                    continue
            if self._parsed_value_in(value, kind, hashes):
                return True
        return False

    @staticmethod
    def _parsed_value_in(value: bytes, kind: str, hashes: frozenset[str]) -> bool:
        try:
            document = orjson.loads(value)
        except orjson.JSONDecodeError:
            return False
        found = document.get(kind) if isinstance(document, dict) else None
        return isinstance(found, str) and id_hash(found) in hashes


async def load_suppression(clickhouse: ClickHouse, database: str) -> list[tuple[str, str]]:
    rows = await clickhouse.execute(
        f"SELECT id_kind, id_hash FROM {ingest_database(database)}.suppressed_ids"
    )
    return [(str(kind), str(digest)) for kind, digest in rows]


class SuppressionRefresher:
    """Keeps a `Suppression` current: `await start()` loads it once (or raises),
    then a task re-reads it every `interval_s`; a failed read keeps the last list.
    """

    def __init__(
        self,
        settings: ClickHouseSettings,
        suppression: Suppression,
        *,
        interval_s: float = SUPPRESSION_REFRESH_S,
    ) -> None:
        self._settings = settings
        self._clickhouse = ClickHouse(settings)
        self.suppression = suppression
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        self.suppression.replace(await load_suppression(self._clickhouse, self._settings.database))

    async def start(self) -> None:
        # Consuming before the list is known would load erased ids again.
        await self.refresh()
        self._task = asyncio.create_task(self._loop(), name="suppression-refresh")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.refresh()
            except ClickHouseError as error:
                log.warning("suppression list not refreshed, keeping the last one: %r", error)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._clickhouse.close()
