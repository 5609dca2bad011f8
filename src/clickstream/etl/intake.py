"""One partition's fetched records -> the rows of a batch; the ETL's hottest loop.

Each record becomes a row (with its month and Kafka record) or, if it can
never load, a dead letter; a suppressed (erased) person's record becomes
neither. Only offsets whose record is a row, a dead letter or suppressed may
be committed: when a dead letter cannot be sent, the chunk ends before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clickstream.backoff import GaveUp
from clickstream.errors import PoisonRecord
from clickstream.etl.dead_letters import DeadLetters
from clickstream.etl.transform import to_row


@dataclass
class Chunk:
    # The last offset done (committable); below the first when none is.
    last: int
    rows: list[bytes] = field(default_factory=list)
    months: list[int] = field(default_factory=list)
    # The Kafka record of each row.
    sources: list[Any] = field(default_factory=list)
    newest_received_at: datetime | None = None
    # Where to read again: the record whose dead letter was not sent.
    reread_from: int | None = None


async def take(
    messages: list[Any],
    dead_letters: DeadLetters,
    suppressed: Callable[[bytes | None], bool] | None,
) -> Chunk:
    """`messages` (one partition's, in offset order) as a chunk of rows."""
    chunk = Chunk(last=messages[-1].offset)
    rows, months = chunk.rows, chunk.months
    newest = None
    dead: set[int] = set()
    # Keep it to one call per record: this runs for every record consumed.
    for message in messages:
        if suppressed is not None and suppressed(message.value):
            dead.add(message.offset)
            continue
        try:
            row, newest, month = to_row(message.value)
        except PoisonRecord as poison:
            try:
                await dead_letters.send(message, poison.reason, poison.kind)
            except GaveUp:
                # Not in the dead-letter topic: read it (and what follows)
                # again rather than commit past it.
                chunk.last = message.offset - 1
                chunk.reread_from = message.offset
                break
            dead.add(message.offset)
            continue
        rows.append(row)
        months.append(month)
    chunk.newest_received_at = newest
    if len(rows) == len(messages):
        chunk.sources = messages
    else:
        kept = [message for message in messages if message.offset not in dead]
        chunk.sources = kept[: len(rows)]
    return chunk
