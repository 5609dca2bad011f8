"""The month of a row (read by `to_row`), and insert blocks of few months."""

from __future__ import annotations

import orjson
import pytest

from clickstream.etl.months import blocks
from clickstream.etl.transform import to_row

from .fakes import envelope
from .test_transform import V1


@pytest.mark.parametrize(
    ("timestamp", "month"),
    [
        ("2024-10-31T23:30:00Z", 202410),
        ("2024-10-31T23:30:00.123456Z", 202410),
        ("2024-10-31T20:30:00-05:00", 202411),
        ("2024-12-01T00:30:00+01:00", 202411),
        ("2024-12-01T00:30:00", 202412),
    ],
)
def test_the_month_is_the_utc_month_of_the_time_stored_as_event_time(
    timestamp: str, month: int
) -> None:
    version_1 = orjson.dumps({**orjson.loads(V1), "timestamp": timestamp})
    version_2 = orjson.dumps(
        {**orjson.loads(envelope()), "timestamp": "2001-01-01T00:00:00Z", "event_time": timestamp}
    )

    assert to_row(version_1)[2] == month
    assert to_row(version_2)[2] == month


def test_the_month_of_our_own_envelopes() -> None:
    assert to_row(envelope(timestamp="2031-07-04T12:00:00Z"))[2] == 203107


def test_rows_of_few_months_are_one_block() -> None:
    rows = [b"a", b"b", b"c"]

    assert blocks(rows, ["A", "B", "C"], [202401, 202402, 202401], 2) == [(rows, ["A", "B", "C"])]


def test_blocks_keep_rows_with_their_sources_and_are_the_same_every_time() -> None:
    months = [202401, 202402, 202403, 202401, 202403, 202404]
    rows = [f"row-{i}".encode() for i in range(len(months))]
    sources = list(range(len(rows)))

    split = blocks(rows, sources, months, 2)

    assert [block_sources for _, block_sources in split] == [[0, 1, 3], [2, 4, 5]]
    assert all(rows[i] == row for block in split for row, i in zip(*block, strict=True))
    assert blocks(rows, sources, months, 2) == split
