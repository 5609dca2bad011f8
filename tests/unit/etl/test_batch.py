"""The batch: rows and offsets, due by size or by time; time is passed in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition

from clickstream.etl.batch import Batch

P0 = TopicPartition("events", 0)
P1 = TopicPartition("events", 1)
T1 = datetime(2024, 10, 3, 14, 30, 1, tzinfo=UTC)
T2 = datetime(2024, 10, 3, 14, 30, 2, tzinfo=UTC)


def test_new_batch_is_empty_and_not_due() -> None:
    batch = Batch(max_rows=3, max_wait_s=1.0)

    assert batch.empty
    assert batch.rows == []
    assert batch.commit_offsets() == {}
    assert not batch.due(now=1_000_000.0)
    assert batch.wait_s(now=50.0) == 1.0


def test_add_keeps_rows_in_order_and_the_last_receipt_time() -> None:
    batch = Batch(max_rows=10, max_wait_s=1.0)

    batch.add(P0, 5, b"a", T1, now=10.0)
    batch.add(P1, 7, b"b", T2, now=10.5)

    assert batch.rows == [b"a", b"b"]
    assert batch.newest_received_at == T2
    assert batch.opened_at == 10.0
    assert not batch.empty


@pytest.mark.parametrize(("rows", "due"), [(1, False), (2, False), (3, True), (4, True)])
def test_due_by_rows(rows: int, due: bool) -> None:
    batch = Batch(max_rows=3, max_wait_s=60.0)
    for offset in range(rows):
        batch.add(P0, offset, b"row", T1, now=10.0)

    assert batch.due(now=10.0) is due


@pytest.mark.parametrize(
    ("now", "due"), [(10.0, False), (11.99, False), (12.0, True), (30.0, True)]
)
def test_due_by_time_since_the_first_record(now: float, due: bool) -> None:
    batch = Batch(max_rows=100, max_wait_s=2.0)
    batch.add(P0, 0, b"row", T1, now=10.0)
    batch.add(P0, 1, b"row", T1, now=11.5)

    assert batch.due(now=now) is due


@pytest.mark.parametrize(("now", "wait"), [(10.0, 2.0), (10.5, 1.5), (12.0, 0.0), (20.0, 0.0)])
def test_wait_s_counts_down_from_the_first_record(now: float, wait: float) -> None:
    batch = Batch(max_rows=100, max_wait_s=2.0)
    batch.add(P0, 0, b"row", T1, now=10.0)

    assert batch.wait_s(now=now) == pytest.approx(wait)


def test_commit_offsets_are_the_next_offset_per_partition() -> None:
    batch = Batch(max_rows=100, max_wait_s=1.0)
    batch.add(P0, 5, b"a", T1, now=0.0)
    batch.add(P0, 6, b"b", T1, now=0.0)
    batch.add(P1, 41, b"c", T1, now=0.0)
    batch.consumed(P1, 42, now=0.0)

    assert batch.commit_offsets() == {P0: 7, P1: 43}


def test_consumed_without_a_row_opens_the_batch_and_moves_the_offset() -> None:
    batch = Batch(max_rows=1, max_wait_s=2.0)

    batch.consumed(P0, 9, now=10.0)

    assert batch.rows == []
    assert not batch.empty
    assert batch.commit_offsets() == {P0: 10}
    assert batch.newest_received_at is None
    assert not batch.due(now=11.0), "a dead letter alone does not fill the batch"
    assert batch.due(now=12.0), "but its offset is committed within max_wait_s"
    assert batch.wait_s(now=11.0) == pytest.approx(1.0)


def test_clear_resets_everything() -> None:
    batch = Batch(max_rows=2, max_wait_s=1.0)
    batch.add(P0, 1, b"a", T1, now=10.0)
    batch.add(P1, 2, b"b", T2, now=10.0)

    batch.clear()

    assert batch.empty
    assert batch.rows == []
    assert batch.commit_offsets() == {}
    assert batch.opened_at is None
    assert batch.newest_received_at is None
    assert not batch.due(now=100.0)
    assert batch.wait_s(now=100.0) == 1.0


def test_rows_handed_out_before_clear_are_not_changed_by_it() -> None:
    batch = Batch(max_rows=10, max_wait_s=1.0)
    batch.add(P0, 1, b"a", T1, now=0.0)
    written = batch.rows

    batch.clear()
    batch.add(P0, 2, b"b", T1, now=0.0)

    assert written == [b"a"]


def test_clock_restarts_after_clear() -> None:
    batch = Batch(max_rows=10, max_wait_s=2.0)
    batch.add(P0, 1, b"a", T1, now=10.0)
    batch.clear()

    batch.add(P0, 2, b"b", T1, now=50.0)

    assert batch.opened_at == 50.0
    assert not batch.due(now=51.0)
    assert batch.due(now=52.0)
