"""Month keys of rows, and insert blocks of few months."""

from __future__ import annotations

import orjson
import pytest

from clickstream.etl.months import blocks, month_key

from .fakes import envelope


@pytest.mark.parametrize(
    ("fields", "month"),
    [
        ({"timestamp": "2024-10-31T23:30:00Z"}, 202410),
        ({"timestamp": "2024-10-31T23:30:00.123456Z"}, 202410),
        ({"timestamp": "2024-10-31T20:30:00-05:00"}, 202411),
        ({"timestamp": "2024-12-01T00:30:00+01:00"}, 202411),
        ({"timestamp": "2024-12-01T00:30:00"}, 202412),
        (
            {"timestamp": "2024-01-01T00:00:00Z", "event_time": "2023-12-31T23:59:59.000000Z"},
            202312,
        ),
        ({"timestamp": "garbage"}, 0),
        ({}, 0),
    ],
)
def test_month_key_is_the_utc_month_of_event_time_else_timestamp(
    fields: dict[str, str], month: int
) -> None:
    assert month_key(orjson.dumps({"schema_version": 1, **fields})) == month


def test_month_key_of_our_own_envelopes() -> None:
    assert month_key(envelope(timestamp="2031-07-04T12:00:00Z")) == 203107


def test_few_rows_are_one_block_unread() -> None:
    rows = [b"not even json", b"x"]

    assert blocks(rows, ["a", "b"], 2) == [(rows, ["a", "b"])]


def test_blocks_keep_rows_with_their_sources_and_are_the_same_every_time() -> None:
    rows = [envelope(timestamp=f"2024-{month:02d}-02T00:00:00Z") for month in (1, 2, 3, 1, 3, 4)]
    sources = list(range(len(rows)))

    split = blocks(rows, sources, 2)

    assert [block_sources for _, block_sources in split] == [[0, 1, 3], [2, 4, 5]]
    assert all(rows[i] == row for block in split for row, i in zip(*block, strict=True))
    assert blocks(rows, sources, 2) == split
