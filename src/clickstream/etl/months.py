"""Which month partition a row lands in, and insert blocks that span few of them.

ClickHouse refuses an insert block that touches more than
`max_partitions_per_insert_block` (default 100) partitions, and events_local
is partitioned by month of `event_time`. A backlog of late or back-filled
events can span more, so such a batch goes in several blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

import orjson

S = TypeVar("S")


_EVENT_TIME = b'"event_time":"'
_TIMESTAMP = b'"timestamp":"'
# Our API writes times as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (events.utc_text).
_UTC_TEXT_LENGTH = 27


def month_key(row: bytes) -> int:
    """YYYYMM (UTC) of the envelope's `event_time` (version 2) or `timestamp` (version 1).

    Our own envelopes are compact JSON with UTC times, so the month is read
    from the bytes (a tenth of the cost of parsing the row again); anything
    else is parsed with orjson. 0 for a row without a readable time:
    ClickHouse refuses it anyway, and bisection finds it.
    """
    at = row.find(_EVENT_TIME)
    start = at + len(_EVENT_TIME) if at >= 0 else row.find(_TIMESTAMP) + len(_TIMESTAMP)
    if (
        start >= len(_TIMESTAMP)
        and row[start + _UTC_TEXT_LENGTH - 1 : start + _UTC_TEXT_LENGTH + 1] == b'Z"'
    ):
        try:
            return int(row[start : start + 4]) * 100 + int(row[start + 5 : start + 7])
        except ValueError:
            pass
    return _parsed_month(row)


def _parsed_month(row: bytes) -> int:
    try:
        document = orjson.loads(row)
        moment = datetime.fromisoformat(document.get("event_time") or document["timestamp"])
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return 0
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.year * 100 + moment.month


def blocks(
    rows: Sequence[bytes], sources: Sequence[S], max_months: int
) -> list[tuple[list[bytes], list[S]]]:
    """`rows` (with their `sources`) as blocks of at most `max_months` distinct months.

    Deterministic for the same rows, so a block retried after a restart is
    byte-identical again. A batch with no more rows than months allowed is
    never parsed.
    """
    if len(rows) <= max_months:
        return [(list(rows), list(sources))]
    months = [month_key(row) for row in rows]
    distinct = list(dict.fromkeys(months))
    if len(distinct) <= max_months:
        return [(list(rows), list(sources))]
    block_of = {month: i // max_months for i, month in enumerate(distinct)}
    split: list[tuple[list[bytes], list[S]]] = [
        ([], []) for _ in range(len(distinct) // max_months + 1)
    ]
    for row, source, month in zip(rows, sources, months, strict=True):
        block_rows, block_sources = split[block_of[month]]
        block_rows.append(row)
        block_sources.append(source)
    return [block for block in split if block[0]]
