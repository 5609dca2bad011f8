"""Dead letters: why in the headers, retried while Kafka is away, given up on the stop signal."""

from __future__ import annotations

import asyncio

import pytest

from clickstream.backoff import Backoff, GaveUp, StopSignal
from clickstream.etl.dead_letters import DeadLetters
from clickstream.etl.metrics import EtlMetrics

from .fakes import POISON, FakeDeadLetters, FakeRecord, Log, until


def dead_letters(producer: FakeDeadLetters, stop: StopSignal) -> DeadLetters:
    return DeadLetters(
        producer,
        topic="events.dlq",
        backoff=Backoff(0.001, 0.002),
        stop=stop,
        metrics=EtlMetrics(),
    )


RECORD = FakeRecord("events", 3, 41, POISON, key=b"u-1", headers=[("traceparent", b"00-x")])


async def test_the_record_goes_out_with_its_reason_and_origin() -> None:
    log: Log = []
    producer = FakeDeadLetters(log)
    sender = dead_letters(producer, StopSignal())

    await sender.send(RECORD, "value is not JSON", "undecodable", [("dlq_error_code", b"27")])

    [(topic, value, key, headers)] = producer.sent
    assert (topic, value, key) == ("events.dlq", POISON, b"u-1")
    assert headers == {
        "dlq_reason": b"value is not JSON",
        "dlq_error_code": b"27",
        "dlq_topic": b"events",
        "dlq_partition": b"3",
        "dlq_offset": b"41",
        "traceparent": b"00-x",
    }
    assert sender._metrics.dead_lettered.labels("undecodable")._value.get() == 1


async def test_a_send_is_retried_while_kafka_is_away() -> None:
    log: Log = []
    producer = FakeDeadLetters(log)
    producer.down = True
    sending = asyncio.create_task(dead_letters(producer, StopSignal()).send(RECORD, "r", "invalid"))
    await until(lambda: producer.failures >= 3)

    producer.down = False
    await asyncio.wait_for(sending, timeout=1)

    assert len(producer.sent) == 1


async def test_a_send_gives_up_when_the_stop_signal_fires() -> None:
    log: Log = []
    producer = FakeDeadLetters(log)
    producer.down = True
    stop = StopSignal()
    sender = dead_letters(producer, stop)
    sending = asyncio.create_task(sender.send(RECORD, "r", "invalid"))
    await until(lambda: producer.failures >= 2)

    stop.set()

    with pytest.raises(GaveUp):
        await asyncio.wait_for(sending, timeout=1)
    assert producer.sent == []
    assert sender._metrics.dead_lettered.labels("invalid")._value.get() == 0
