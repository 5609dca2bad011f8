"""Which month partition a row lands in, and insert blocks that span few of them.

ClickHouse refuses an insert block that touches more than
`max_partitions_per_insert_block` (default 100) partitions, and events_local
is partitioned by month of `event_time`. A backlog of late or back-filled
events can span more, so such a batch goes in several blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

S = TypeVar("S")


def blocks(
    rows: Sequence[bytes], sources: Sequence[S], months: Sequence[int], max_months: int
) -> list[tuple[list[bytes], list[S]]]:
    """`rows` (with their `sources`) as blocks of at most `max_months` distinct months.

    `months[i]` is the month of `rows[i]` (YYYYMM, as `transform.to_row`
    read it). Deterministic for the same rows, so a block retried after a
    restart is byte-identical again.
    """
    # The usual batch (a set is cheaper than the ordered distinct months).
    if len(set(months)) <= max_months:
        return [(list(rows), list(sources))]
    distinct = list(dict.fromkeys(months))
    block_of = {month: i // max_months for i, month in enumerate(distinct)}
    split: list[tuple[list[bytes], list[S]]] = [
        ([], []) for _ in range(len(distinct) // max_months + 1)
    ]
    for row, source, month in zip(rows, sources, months, strict=True):
        block_rows, block_sources = split[block_of[month]]
        block_rows.append(row)
        block_sources.append(source)
    return [block for block in split if block[0]]
