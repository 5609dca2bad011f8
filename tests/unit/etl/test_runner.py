"""The poll loop against fakes: commit after write, dead letters first, abandon, backpressure."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError

from clickstream.config import EtlSettings, KafkaSettings, Settings
from clickstream.etl import state
from clickstream.etl.clients import KafkaClients
from clickstream.etl.runner import Etl

from .fakes import (
    P0,
    P1,
    POISON,
    TOPIC,
    FakeConsumer,
    FakeDeadLetters,
    FakeWriter,
    Log,
    envelope,
    month_of,
    until,
)


def settings(**etl: object) -> Settings:
    options: dict[str, object] = {
        "batch_max_rows": 100,
        "batch_max_wait_s": 0.02,
        "retry_initial_s": 0.001,
        "retry_max_s": 0.005,
        "metrics_host": "127.0.0.1",
        "metrics_port": 0,
        **etl,
    }
    return Settings(
        kafka=KafkaSettings(topic=TOPIC, dlq_topic=f"{TOPIC}.dlq"),
        etl=EtlSettings.model_validate(options),
    )


class Pipeline:
    def __init__(self, partitions: tuple[TopicPartition, ...] = (P0,)) -> None:
        self.log: Log = []
        self.consumer = FakeConsumer(self.log, partitions)
        self.writer = FakeWriter(self.log)
        self.dead_letters = FakeDeadLetters(self.log)

    def clients(self) -> KafkaClients:
        return KafkaClients(self.consumer, self.dead_letters)

    @contextlib.asynccontextmanager
    async def running(self, config: Settings | None = None) -> AsyncIterator[Etl]:
        etl = Etl(config or settings(), kafka=self.clients, writer=self.writer)
        task = asyncio.create_task(etl.run())
        try:
            yield etl
        finally:
            # A held write would hold the shutdown too: a failing test must not hang.
            self.writer.gate.set()
            etl.request_stop()
            await asyncio.wait_for(task, timeout=5)


def index(log: Log, kind: str) -> int:
    return next(i for i, (what, _) in enumerate(log) if what == kind)


def down(rows: list[bytes]) -> BaseException:
    return OSError("clickhouse down")


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "SHUTDOWN_FLUSH_TIMEOUT_S", 0.1)


async def test_offsets_are_committed_only_after_clickhouse_accepted_the_rows() -> None:
    pipeline = Pipeline()
    values = [envelope(), envelope(), envelope()]
    pipeline.consumer.append(P0, *values)
    pipeline.writer.refuse = down

    async with pipeline.running():
        await until(lambda: len(pipeline.writer.attempts) >= 3)
        assert pipeline.consumer.commits == []
        pipeline.writer.refuse = lambda rows: None
        await until(lambda: pipeline.consumer.committed == {P0: 3})

    assert pipeline.writer.stored == values
    assert index(pipeline.log, "write") < index(pipeline.log, "commit")
    assert all(block == values for block in pipeline.writer.attempts), "retries are identical"


async def test_a_batch_of_many_months_goes_in_blocks_of_few() -> None:
    pipeline = Pipeline()
    months = ["2024-01", "2024-02", "2024-03", "2024-01"]
    values = [envelope(timestamp=f"{month}-15T10:00:00Z") for month in months]
    pipeline.consumer.append(P0, *values)

    async with pipeline.running(settings(max_partitions_per_insert=2)):
        await until(lambda: pipeline.consumer.committed == {P0: 4})

    assert [len({month_of(row) for row in block}) for block in pipeline.writer.attempts] == [2, 1]
    assert sorted(pipeline.writer.stored) == sorted(values)


async def test_dead_letters_go_out_before_the_commit_that_passes_them() -> None:
    pipeline = Pipeline()
    good = [envelope(), envelope()]
    pipeline.consumer.append(P0, good[0], POISON, good[1])

    async with pipeline.running():
        await until(lambda: pipeline.consumer.committed == {P0: 3})

    assert pipeline.log.index(("dead_letter", 1)) < index(pipeline.log, "commit")
    assert pipeline.writer.stored == good
    [(topic, value, _, headers)] = pipeline.dead_letters.sent
    assert (topic, value) == (f"{TOPIC}.dlq", POISON)
    assert headers["dlq_reason"] == b"value is not JSON"
    assert (headers["dlq_partition"], headers["dlq_offset"]) == (b"0", b"1")


async def test_a_dead_letter_that_was_not_sent_is_not_committed(short_grace: None) -> None:
    pipeline = Pipeline()
    first = envelope()
    pipeline.consumer.append(P0, first, POISON, envelope())
    pipeline.dead_letters.down = True

    async with pipeline.running():
        await until(lambda: pipeline.dead_letters.failures >= 2)

    assert pipeline.consumer.committed == {P0: 1}, "stops before the unsent dead letter"
    assert (P0, 1) in pipeline.consumer.seeks
    assert pipeline.writer.stored == [first]


async def test_a_rebalance_abandons_the_unwritten_batch_and_reads_it_again() -> None:
    pipeline = Pipeline()
    values = [envelope(), envelope()]
    pipeline.consumer.append(P0, *values)
    pipeline.writer.refuse = down

    async with pipeline.running():
        await until(lambda: len(pipeline.writer.attempts) >= 2)
        await asyncio.wait_for(pipeline.consumer.revoke(), timeout=1)
        assert pipeline.consumer.commits == []
        assert pipeline.consumer.seeks == [(P0, 0)]
        # Once the rebalance is over, retries wait for ClickHouse again.
        attempts = len(pipeline.writer.attempts)
        await until(lambda: len(pipeline.writer.attempts) >= attempts + 3)
        assert pipeline.consumer.seeks == [(P0, 0)]
        pipeline.writer.refuse = lambda rows: None
        await until(lambda: pipeline.consumer.committed == {P0: 2})

    assert pipeline.writer.stored == values


async def test_sigterm_during_an_outage_returns_without_committing(short_grace: None) -> None:
    pipeline = Pipeline()
    pipeline.consumer.append(P0, envelope())
    pipeline.writer.refuse = down
    etl = Etl(settings(), kafka=pipeline.clients, writer=pipeline.writer)
    task = asyncio.create_task(etl.run())
    await until(lambda: len(pipeline.writer.attempts) >= 2)

    etl.request_stop()
    await asyncio.wait_for(task, timeout=10)

    assert pipeline.consumer.commits == []
    assert pipeline.consumer.stopped and pipeline.dead_letters.stopped
    assert pipeline.writer.closed


async def test_backpressure_pauses_every_partition_and_keeps_polling() -> None:
    pipeline = Pipeline((P0, P1))
    for tp in (P0, P1):
        pipeline.consumer.append(tp, *(envelope() for _ in range(20)))
    pipeline.writer.gate.clear()

    async with pipeline.running(settings(batch_max_rows=4)):
        await until(lambda: pipeline.consumer.paused_polls >= 1)
        assert pipeline.consumer.paused == {P0, P1}
        assert pipeline.consumer.seeks == [], "paused before polling: nothing read to put back"
        # Two batches in hand at most: the one being written and one full behind it.
        assert sum(pipeline.consumer.position.values()) <= 8
        pipeline.writer.gate.set()
        await until(lambda: pipeline.consumer.committed == {P0: 20, P1: 20})
        assert pipeline.consumer.paused == set()

    assert len(pipeline.writer.stored) == 40


async def test_a_partition_assigned_during_backpressure_is_paused_and_put_back() -> None:
    pipeline = Pipeline((P0,))
    pipeline.consumer.append(P0, *(envelope() for _ in range(8)))
    pipeline.writer.gate.clear()

    async with pipeline.running(settings(batch_max_rows=4)):
        await until(lambda: pipeline.consumer.paused == {P0})
        pipeline.consumer.assign(P1)
        pipeline.consumer.append(P1, envelope(), envelope())
        await until(lambda: P1 in pipeline.consumer.paused, timeout_s=3)
        assert pipeline.consumer.position[P1] == 0, "what it read meanwhile is put back"
        pipeline.writer.gate.set()
        await until(lambda: pipeline.consumer.committed == {P0: 8, P1: 2})


async def test_kafka_start_up_is_retried_with_fresh_clients() -> None:
    pipeline = Pipeline()
    built: list[FakeConsumer] = []

    def clients() -> KafkaClients:
        consumer = FakeConsumer(pipeline.log) if len(built) < 2 else pipeline.consumer
        if len(built) < 2:
            consumer.start_error = KafkaConnectionError("no broker yet")
        built.append(consumer)
        return KafkaClients(consumer, pipeline.dead_letters)

    etl = Etl(settings(), kafka=clients, writer=pipeline.writer)
    task = asyncio.create_task(etl.run())
    try:
        await until(lambda: etl.ready)
    finally:
        etl.request_stop()
        await asyncio.wait_for(task, timeout=10)

    assert len(built) == 3
    assert built[0] is not built[1]
    assert built[0].stopped and built[1].stopped


async def test_a_stop_while_kafka_is_unreachable_ends_the_wait_at_once() -> None:
    pipeline = Pipeline()
    pipeline.consumer.start_error = KafkaConnectionError("no broker")
    config = settings(retry_initial_s=30.0, retry_max_s=30.0)
    etl = Etl(config, kafka=pipeline.clients, writer=pipeline.writer)
    task = asyncio.create_task(etl.run())
    await asyncio.sleep(0.05)

    started = time.monotonic()
    etl.request_stop()
    await asyncio.wait_for(task, timeout=10)

    assert time.monotonic() - started < 5.0  # far below the 30 s backoff
    assert not etl.ready


async def test_ready_follows_clickhouse_and_live_follows_the_loop() -> None:
    pipeline = Pipeline()
    async with pipeline.running() as etl:
        await until(lambda: etl.ready)
        assert etl.live
        pipeline.writer.refuse = down
        pipeline.consumer.append(P0, envelope())
        await until(lambda: not etl.ready)
        assert etl.metrics.clickhouse_up._value.get() == 0
        pipeline.writer.refuse = lambda rows: None
        await until(lambda: etl.ready)


class FakeRefresher:
    """The suppression list as the ETL sees it: an erased user's records are skipped."""

    def __init__(self, erased: bytes) -> None:
        self.erased = erased
        self.started = self.stopped = False
        self.suppression = self

    def suppressed(self, value: bytes | None) -> bool:
        return value is not None and self.erased in value

    def __len__(self) -> int:
        return 1

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True


async def test_suppressed_records_are_skipped_and_their_offsets_committed() -> None:
    pipeline = Pipeline()
    kept, also_kept = envelope(user_id="kept"), envelope(user_id="kept")
    erased = envelope(user_id="erased-person")
    pipeline.consumer.append(P0, kept, erased, also_kept)
    refresher = FakeRefresher(b"erased-person")
    etl = Etl(settings(), kafka=pipeline.clients, writer=pipeline.writer, suppression=refresher)  # type: ignore[arg-type]
    task = asyncio.create_task(etl.run())
    try:
        await until(lambda: pipeline.consumer.committed == {P0: 3})
    finally:
        etl.request_stop()
        await asyncio.wait_for(task, timeout=5)

    assert refresher.started and refresher.stopped
    assert pipeline.writer.stored == [kept, also_kept]
    assert pipeline.dead_letters.sent == [], "an erased person's data goes nowhere"
