"""The coalescer against a fake `send_batch`: what shares a batch, what fails, what survives."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError, NotLeaderForPartitionError
from aiokafka.partitioner import murmur2

from clickstream.coalescer import Coalescer, Partitioner
from clickstream.errors import Unavailable

from .fake_kafka import TOPIC, FakeSender, record

LONG_S = 60.0


def by_key(key: bytes) -> int:
    """Key b"3" goes to partition 3: tests say where each record lands."""
    return int(key)


def coalescer(
    sender: FakeSender | None,
    *,
    linger_s: float = LONG_S,
    deadline_s: float = LONG_S,
    flush_at_records: int = 1_000,
) -> Coalescer:
    return Coalescer(
        lambda: sender,
        by_key,
        TOPIC,
        linger_s=linger_s,
        deadline_s=deadline_s,
        flush_at_records=flush_at_records,
    )


async def settle_loop() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_requests_within_the_linger_share_one_batch_per_partition() -> None:
    sender = FakeSender()
    flushes: list[float] = []
    subject = Coalescer(
        lambda: sender, by_key, TOPIC, linger_s=0.05, deadline_s=LONG_S, on_flush=flushes.append
    )

    first = asyncio.create_task(subject.send([record("0", "a"), record("1", "b")]))
    await settle_loop()
    second = asyncio.create_task(subject.send([record("0", "c")]))
    await settle_loop()

    assert sender.sent == [], "nothing goes before the linger ends"
    await asyncio.gather(first, second)
    assert sorted((p, b.values) for p, b in sender.sent) == [(0, [b"a", b"c"]), (1, [b"b"])]
    assert len(flushes) == 1


async def test_past_the_size_cut_a_flush_goes_at_once() -> None:
    sender = FakeSender()
    subject = coalescer(sender, flush_at_records=3)

    first = asyncio.create_task(subject.send([record("0", "a"), record("0", "b")]))
    await settle_loop()
    assert sender.sent == []
    await asyncio.wait_for(subject.send([record("0", "c")]), timeout=1.0)
    await first

    assert sender.values() == [[b"a", b"b", b"c"]]


async def test_a_full_batch_continues_in_a_new_one_for_the_same_partition() -> None:
    sender = FakeSender(capacity=2)
    subject = coalescer(sender, flush_at_records=5)

    await subject.send([record("0", v) for v in "abcde"])

    assert sender.values(0) == [[b"a", b"b"], [b"c", b"d"], [b"e"]]


async def test_one_key_keeps_its_order_within_and_across_flushes() -> None:
    sender = FakeSender(capacity=3)
    subject = coalescer(sender, linger_s=0.01, flush_at_records=4)
    values = [f"{i:02}" for i in range(12)]

    # Mixed with another partition, in requests of one to three records.
    await asyncio.gather(
        subject.send([record("2", values[0]), record("5", "x")]),
        subject.send([record("2", v) for v in values[1:4]]),
    )
    await asyncio.gather(
        subject.send([record("2", values[4])]),
        subject.send([record("5", "y"), record("2", values[5]), record("2", values[6])]),
        subject.send([record("2", v) for v in values[7:10]]),
    )
    await subject.send([record("2", v) for v in values[10:]])

    assert [v.decode() for batch in sender.values(2) for v in batch] == values


async def test_a_failed_partition_fails_only_the_requests_that_touched_it() -> None:
    sender = FakeSender()
    sender.failing[1] = NotLeaderForPartitionError()
    subject = coalescer(sender, linger_s=0.01)

    only_ok, only_failed, both = await asyncio.gather(
        subject.send([record("0", "a")]),
        subject.send([record("1", "b")]),
        subject.send([record("0", "c"), record("1", "d")]),
        return_exceptions=True,
    )

    assert only_ok is None
    assert isinstance(only_failed, NotLeaderForPartitionError)
    assert isinstance(both, NotLeaderForPartitionError)


async def test_handed_off_batches_are_retrieved_when_a_later_send_fails() -> None:
    sender = FakeSender()
    sender.hold = True
    sender.refuse_after = 1
    sender.failing[0] = NotLeaderForPartitionError()
    subject = coalescer(sender, linger_s=0.01)
    unretrieved: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: unretrieved.append(context))
    try:
        with pytest.raises(KafkaTimeoutError):
            await subject.send([record("0", "a"), record("1", "b")])
        # The first batch was handed off before the second was refused; it fails
        # later, with nobody awaiting it.
        sender.release()
        await settle_loop()
        sender.deliveries.clear()
        gc.collect()
    finally:
        loop.set_exception_handler(previous)

    assert unretrieved == []


async def test_no_producer_fails_the_request_instead_of_hanging_it() -> None:
    subject = coalescer(None, linger_s=0.0)

    with pytest.raises(Unavailable):
        await asyncio.wait_for(subject.send([record("0", "a")]), timeout=1.0)


async def test_a_request_that_gives_up_does_not_break_the_others() -> None:
    sender = FakeSender()
    sender.hold = True
    subject = coalescer(sender, linger_s=0.01)

    gives_up = asyncio.create_task(subject.send([record("0", "a")]))
    waits = asyncio.create_task(subject.send([record("0", "b")]))
    await sender.shipped.wait()
    gives_up.cancel()
    sender.release()

    await asyncio.wait_for(waits, timeout=1.0)
    with pytest.raises(asyncio.CancelledError):
        await gives_up
    assert sender.values() == [[b"a", b"b"]]


async def test_past_the_deadline_a_request_times_out_and_later_ones_still_ship() -> None:
    sender = FakeSender()
    sender.hold = True
    subject = coalescer(sender, linger_s=0.0, deadline_s=0.05)

    with pytest.raises(TimeoutError):
        await subject.send([record("0", "a")])
    # Kafka acknowledges the abandoned batch after its request gave up.
    sender.release()
    sender.hold = False
    await asyncio.wait_for(subject.send([record("0", "b")]), timeout=1.0)

    assert sender.values() == [[b"a"], [b"b"]]


async def test_drain_ships_what_is_pending_without_waiting_for_the_linger() -> None:
    sender = FakeSender()
    subject = coalescer(sender)
    pending = asyncio.create_task(subject.send([record("0", "a")]))
    await settle_loop()

    await asyncio.wait_for(subject.drain(), timeout=1.0)

    assert pending.done() and pending.exception() is None
    assert sender.values() == [[b"a"]]


def test_the_partitioner_is_kafkas_murmur2_and_forgets_on_resize() -> None:
    partitioner = Partitioner()
    partitioner.resize(6)
    keys = [f"user-{i}".encode() for i in range(50)]

    assert [partitioner.partition_of(k) for k in keys] == [
        (murmur2(k) & 0x7FFFFFFF) % 6 for k in keys
    ]
    partitioner.resize(7)
    assert [partitioner.partition_of(k) for k in keys] == [
        (murmur2(k) & 0x7FFFFFFF) % 7 for k in keys
    ]
