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


def test_extend_keeps_rows_in_order_and_the_last_receipt_time() -> None:
    batch = Batch(max_rows=10, max_wait_s=1.0)

    batch.extend(P0, 5, 6, [b"a", b"b"], ["A", "B"], [202410, 202411], T1, now=10.0)
    batch.extend(P1, 7, 7, [b"c"], ["C"], [202410], T2, now=10.5)
    batch.extend(P0, 7, 7, [b"d"], ["D"], [202409], None, now=11.0)

    assert batch.rows == [b"a", b"b", b"c", b"d"]
    assert batch.sources == ["A", "B", "C", "D"], "each row keeps its Kafka record"
    assert batch.months == [202410, 202411, 202410, 202409], "and its month"
    assert batch.newest_received_at == T2, "a chunk without rows keeps the last receipt time"
    assert batch.opened_at == 10.0
    assert not batch.empty


def test_extend_remembers_where_each_partition_began_and_commits_past_its_end() -> None:
    batch = Batch(max_rows=100, max_wait_s=1.0)

    batch.extend(P0, 5, 6, [b"a", b"b"], [], [202410, 202410], T1, now=0.0)
    batch.extend(P1, 41, 42, [b"c"], [], [202410], T1, now=0.0)  # offset 42 was dead-lettered
    batch.extend(P0, 7, 9, [b"d"], [], [202410], T1, now=0.0)

    assert batch.first_offsets == {P0: 5, P1: 41}
    assert batch.commit_offsets() == {P0: 10, P1: 43}


def test_offsets_without_rows_open_the_batch_and_are_committed() -> None:
    batch = Batch(max_rows=1, max_wait_s=2.0)

    batch.extend(P0, 9, 9, [], [], [], None, now=10.0)

    assert batch.rows == []
    assert not batch.empty
    assert batch.commit_offsets() == {P0: 10}
    assert batch.newest_received_at is None
    assert not batch.due(now=11.0), "a dead letter alone does not fill the batch"
    assert batch.due(now=12.0), "but its offset is committed within max_wait_s"
    assert batch.wait_s(now=11.0) == pytest.approx(1.0)


@pytest.mark.parametrize(("rows", "due"), [(1, False), (2, False), (3, True), (4, True)])
def test_due_by_rows(rows: int, due: bool) -> None:
    batch = Batch(max_rows=3, max_wait_s=60.0)
    batch.extend(P0, 0, rows - 1, [b"row"] * rows, [None] * rows, [202410] * rows, T1, now=10.0)

    assert batch.due(now=10.0) is due


@pytest.mark.parametrize(
    ("now", "due"), [(10.0, False), (11.99, False), (12.0, True), (30.0, True)]
)
def test_due_by_time_since_the_first_record(now: float, due: bool) -> None:
    batch = Batch(max_rows=100, max_wait_s=2.0)
    batch.extend(P0, 0, 0, [b"row"], [], [202410], T1, now=10.0)
    batch.extend(P0, 1, 1, [b"row"], [], [202410], T1, now=11.5)

    assert batch.due(now=now) is due


@pytest.mark.parametrize(("now", "wait"), [(10.0, 2.0), (10.5, 1.5), (12.0, 0.0), (20.0, 0.0)])
def test_wait_s_counts_down_from_the_first_record(now: float, wait: float) -> None:
    batch = Batch(max_rows=100, max_wait_s=2.0)
    batch.extend(P0, 0, 0, [b"row"], [], [202410], T1, now=10.0)

    assert batch.wait_s(now=now) == pytest.approx(wait)


def test_successor_is_empty_with_the_same_limits() -> None:
    batch = Batch(max_rows=7, max_wait_s=3.0)
    batch.extend(P0, 0, 0, [b"row"], [], [202410], T1, now=1.0)

    successor = batch.successor()

    assert successor.empty and successor.rows == [] and successor.opened_at is None
    assert (successor.max_rows, successor.max_wait_s) == (7, 3.0)
    assert batch.rows == [b"row"], "the batch handed to the writer is left alone"
