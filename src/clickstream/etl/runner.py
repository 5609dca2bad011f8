"""`clickstream etl`: consume -> transform -> batch -> insert -> commit.

The one rule: offsets are committed (`offset + 1` per partition) only after
ClickHouse accepted every row before them. While ClickHouse is unavailable
the same batch is retried with capped exponential backoff and jitter, at most
one more batch fills behind it, then the partitions are paused (memory stays
bounded) and still polled (the group membership stays alive); nothing is
committed. A record that can never load goes to the dead-letter topic, and
only then is its offset committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from clickstream import telemetry
from clickstream.clickhouse.client import ClickHouseError
from clickstream.clickhouse.writer import ClickHouseWriter, RowWriter
from clickstream.config import Settings
from clickstream.errors import PoisonRecord
from clickstream.etl.batch import Batch
from clickstream.etl.metrics import EtlMetrics, StatusServer
from clickstream.etl.transform import to_row
from clickstream.kafka import kafka_client_options

log = logging.getLogger(__name__)

# How long a revoked partition's batch may take to finish before it is dropped
# (its offsets stay uncommitted, so the next owner reads the rows again).
REVOKE_FLUSH_TIMEOUT_S = 10.0
SHUTDOWN_FLUSH_TIMEOUT_S = 20.0
# A commit that takes longer is given up; the next batch's commit covers it.
COMMIT_TIMEOUT_S = 30.0
LIVENESS_STALL_S = 120.0


class Etl:
    def __init__(
        self,
        settings: Settings,
        *,
        writer: RowWriter | None = None,
        metrics: EtlMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or EtlMetrics()
        self._writer = writer or ClickHouseWriter(settings.clickhouse)
        self._clock = clock
        etl = settings.etl
        # Two batches at most: one filling from Kafka while the other is written.
        self._batch = Batch(max_rows=etl.batch_max_rows, max_wait_s=etl.batch_max_wait_s)
        self._writing: asyncio.Task[bool] | None = None
        self._writing_batch: Batch | None = None
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._stop_deadline = float("inf")
        self._giving_up = False
        # Wakes a retry backoff early: on stop, or when a rebalance needs the batch.
        self._interrupt = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._dead_letters: AIOKafkaProducer | None = None
        self._committed: dict[TopicPartition, int] = {}
        self._last_progress = clock()
        self._clickhouse_ok = False
        self._tracer = telemetry.tracer(__name__)
        self._status: StatusServer | None = None

    # -- lifecycle ---------------------------------------------------------------

    def request_stop(self) -> None:
        if not self._stopping.is_set():
            log.info("stopping: finishing the current batch")
            self._stop_deadline = self._clock() + SHUTDOWN_FLUSH_TIMEOUT_S
            self._stopping.set()
            self._interrupt.set()

    @property
    def live(self) -> bool:
        return self._clock() - self._last_progress < LIVENESS_STALL_S

    @property
    def ready(self) -> bool:
        return self._consumer is not None and self._clickhouse_ok

    @property
    def status_port(self) -> int:
        assert self._status is not None
        return self._status.port

    async def run(self) -> None:
        self._status = status = StatusServer(
            self.metrics, live=lambda: self.live, ready=lambda: self.ready
        )
        await status.start(self.settings.etl.metrics_host, self.settings.etl.metrics_port)
        try:
            await self._start_kafka()
            if self._consumer is not None:
                await self._consume()
        finally:
            await self._shutdown()
            await status.stop()

    async def _start_kafka(self) -> None:
        kafka = self.settings.kafka
        options = kafka_client_options(kafka)
        backoff = self.settings.etl.retry_initial_s
        while not self._stopping.is_set():
            consumer = AIOKafkaConsumer(
                **options,
                group_id=self.settings.etl.group_id,
                client_id="clickstream-etl",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=self.settings.etl.max_partition_fetch_bytes,
                fetch_max_bytes=4 * self.settings.etl.max_partition_fetch_bytes,
                max_poll_interval_ms=600_000,
                session_timeout_ms=10_000,
                heartbeat_interval_ms=2_000,
            )
            consumer.subscribe([kafka.topic], listener=_Rebalance(self))
            dead_letters = AIOKafkaProducer(
                **options, acks="all", enable_idempotence=True, client_id="clickstream-etl-dlq"
            )
            try:
                await consumer.start()
                await dead_letters.start()
            except (KafkaError, OSError) as error:
                log.warning("kafka not reachable yet: %r", error)
                await _quietly(consumer.stop())
                await _quietly(dead_letters.stop())
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.settings.etl.retry_max_s)
                continue
            self._consumer, self._dead_letters = consumer, dead_letters
            log.info("consuming", extra={"topic": kafka.topic, "group": self.settings.etl.group_id})
            with contextlib.suppress(*ClickHouseError):
                await self._writer.ping()
                self._set_clickhouse(True)
            return

    async def _shutdown(self) -> None:
        if self._consumer is not None:
            async with self._lock:
                if not self._batch.empty:
                    await self._hand_off()
                await self._wait_for_writer()
            await _quietly(self._consumer.stop())
        if self._dead_letters is not None:
            await _quietly(self._dead_letters.stop())
        await self._writer.close()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    # -- the loop ---------------------------------------------------------------

    async def _consume(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while not self._stopping.is_set():
            now = self._clock()
            batch = self._batch
            room = max(1, batch.max_rows - len(batch.rows))
            fetched = await consumer.getmany(
                timeout_ms=int(batch.wait_s(now) * 1000), max_records=room
            )
            self._last_progress = now = self._clock()
            async with self._lock:
                batch = self._batch
                if self._tracer is not None:
                    batch.links += _producer_links(fetched)
                for tp, messages in fetched.items():
                    # The hottest loop of the ETL: keep it to one call per record.
                    rows: list[bytes] = []
                    newest: datetime | None = None
                    for message in messages:
                        try:
                            row, newest = to_row(message.value)
                        except PoisonRecord as poison:
                            await self._dead_letter(message, poison)
                            continue
                        rows.append(row)
                    batch.extend(tp, messages[0].offset, messages[-1].offset, rows, newest, now)
                    self.metrics.records_consumed.inc(len(messages))
                if batch.due(now):
                    await self._hand_off()

    async def _dead_letter(self, message: Any, poison: PoisonRecord) -> None:
        producer = self._dead_letters
        assert producer is not None
        headers = [
            ("dlq_reason", poison.reason.encode()),
            ("dlq_topic", message.topic.encode()),
            ("dlq_partition", str(message.partition).encode()),
            ("dlq_offset", str(message.offset).encode()),
            *list(message.headers or ()),
        ]
        backoff = self.settings.etl.retry_initial_s
        while True:
            try:
                await producer.send_and_wait(
                    self.settings.kafka.dlq_topic,
                    value=message.value,
                    key=message.key,
                    headers=headers,
                )
                break
            except KafkaError as error:
                # Committing past it unsent would lose it: wait for Kafka.
                log.warning("dead-letter send failed, retrying: %r", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.etl.retry_max_s)
        log.warning(
            "dead-lettered a record",
            extra={
                "reason": poison.reason,
                "partition": message.partition,
                "offset": message.offset,
            },
        )
        self.metrics.dead_lettered.labels(poison.kind).inc()

    # -- write, then commit --------------------------------------------------------
    # The full batch is written in a task of its own while the next one fills,
    # so reading Kafka overlaps ClickHouse's work. Batches are handed off one
    # at a time, so offsets are still committed in order.

    async def _hand_off(self) -> None:
        """Start writing the current batch once the previous one is done."""
        if not await self._wait_for_writer():
            return
        batch, self._batch = self._batch, self._batch.successor()
        self._writing_batch = batch
        self._writing = asyncio.create_task(self._write_and_commit(batch), name="etl-write")

    async def _wait_for_writer(self) -> bool:
        """Wait for the batch being written; False if it was abandoned (then so is ours)."""
        task = self._writing
        if task is None:
            return True
        if not task.done():
            # Meanwhile keep polling with every partition paused, so the group
            # does not evict us during a long ClickHouse outage.
            self._pause()
            while not task.done():
                await asyncio.wait({task}, timeout=1.0)
                if not task.done():
                    await self._poll_paused()
            self._resume()
        self._writing = None
        written = task.result()
        abandoned = self._writing_batch
        self._writing_batch = None
        if not written and abandoned is not None:
            self._abandon(abandoned, self._batch)
            self._batch = self._batch.successor()
            return False
        return True

    async def _poll_paused(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        self._last_progress = self._clock()
        fetched = await consumer.getmany(timeout_ms=0)
        for tp, messages in fetched.items():
            # Partitions assigned meanwhile are not paused: put their records back.
            consumer.seek(tp, messages[0].offset)
        self._pause()

    async def _write_and_commit(self, batch: Batch) -> bool:
        if self._tracer is None:
            written = await self._write_until_done(batch.rows)
        else:
            written = await self._traced_write(batch)
        if not written:
            return False
        if batch.newest_received_at is not None:
            freshness = (datetime.now(UTC) - batch.newest_received_at).total_seconds()
            self.metrics.freshness_seconds.observe(max(0.0, freshness))
        offsets = batch.commit_offsets()
        try:
            assert self._consumer is not None
            # aiokafka retries a retriable commit error without end: bound it.
            async with asyncio.timeout(COMMIT_TIMEOUT_S):
                await self._consumer.commit(offsets)
            self.metrics.commits.inc()
            self._committed.update(offsets)
        except (CommitFailedError, KafkaError, TimeoutError) as error:
            # The rows are stored; whoever owns the partitions now reads them
            # again and the replacing engine collapses the repeats.
            log.warning("offset commit failed after insert: %r", error)
        self._update_lag()
        return True

    async def _traced_write(self, batch: Batch) -> bool:
        """One span per batch insert, linked to the producer span of its records."""
        from opentelemetry.trace import Link, SpanKind, Status, StatusCode

        database = self.settings.clickhouse.database
        with self._tracer.start_as_current_span(
            f"INSERT {database}.events_ingest",
            kind=SpanKind.CLIENT,
            links=[Link(context) for context in batch.links],
            attributes={
                "db.system": "clickhouse",
                "db.namespace": database,
                "db.operation.name": "INSERT",
                "db.collection.name": "events_ingest",
                "db.query.text": f"INSERT INTO {database}.events_ingest (envelope) VALUES",
                "db.operation.batch.size": len(batch.rows),
                "server.address": self.settings.clickhouse.host,
                "server.port": self.settings.clickhouse.port,
            },
        ) as span:
            written = await self._write_until_done(batch.rows)
            if not written:
                span.set_status(Status(StatusCode.ERROR, "abandoned"))
            return written

    async def _write_until_done(self, rows: list[bytes]) -> bool:
        """Insert, retrying the byte-identical batch until it lands; False if given up."""
        etl = self.settings.etl
        backoff = etl.retry_initial_s
        while True:
            started = time.perf_counter()
            try:
                if rows:
                    await self._writer.write(rows)
                else:
                    await self._writer.ping()
            except ClickHouseError as error:
                self.metrics.insert_retries.inc()
                if self._clickhouse_ok:
                    log.warning("clickhouse insert failed, retrying: %r", error)
                self._set_clickhouse(False)
                if self._giving_up or self._clock() > self._stop_deadline:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._interrupt.wait(), timeout=backoff * random.uniform(0.5, 1.0)
                    )
                backoff = min(backoff * 2, etl.retry_max_s)
                continue
            if rows:
                self.metrics.insert_seconds.observe(time.perf_counter() - started)
                self.metrics.batch_rows.observe(len(rows))
                self.metrics.rows_inserted.inc(len(rows))
            self._set_clickhouse(True)
            return True

    def _set_clickhouse(self, ok: bool) -> None:
        if ok and not self._clickhouse_ok:
            log.info("clickhouse available")
        self._clickhouse_ok = ok
        self.metrics.clickhouse_up.set(1 if ok else 0)

    def _pause(self) -> None:
        consumer = self._consumer
        if consumer is not None:
            consumer.pause(*consumer.assignment())

    def _resume(self) -> None:
        consumer = self._consumer
        if consumer is not None:
            consumer.resume(*consumer.assignment())

    # -- rebalance ---------------------------------------------------------------

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Finish both batches within a bound, or abandon them uncommitted."""
        if self._writing is None and self._batch.empty:
            return
        # A write stuck in an outage gives up at its next retry, now.
        self._giving_up = True
        self._interrupt.set()
        try:
            async with asyncio.timeout(REVOKE_FLUSH_TIMEOUT_S):
                async with self._lock:
                    if not self._batch.empty:
                        await self._hand_off()
                    await self._wait_for_writer()
        except TimeoutError:
            log.warning("revoked while a batch was still unwritten")
            if self._writing_batch is not None:
                # The task gives up soon; its offsets stay uncommitted.
                self._abandon(self._writing_batch, self._batch)
                self._batch = self._batch.successor()
        finally:
            self._giving_up = False
            if not self._stopping.is_set():
                self._interrupt.clear()

    def _abandon(self, *batches: Batch) -> None:
        """Forget unwritten batches; re-read what we keep from where they began."""
        rows = sum(len(b.rows) for b in batches)
        log.warning("abandoning %d unwritten rows (offsets not committed)", rows)
        consumer = self._consumer
        if consumer is None:
            return
        assigned = consumer.assignment()
        starts: dict[TopicPartition, int] = {}
        for batch in batches:
            for tp, offset in batch.first_offsets.items():
                starts[tp] = min(offset, starts.get(tp, offset))
        for tp, offset in starts.items():
            if tp in assigned:
                consumer.seek(tp, offset)

    def _update_lag(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            committed = self._committed.get(tp)
            if highwater is not None and committed is not None:
                self.metrics.consumer_lag.labels(str(tp.partition)).set(
                    max(0, highwater - committed)
                )


def _producer_links(fetched: dict[TopicPartition, list[Any]]) -> list[Any]:
    """Span contexts from the records' `traceparent` headers, sampled ones only.

    A batch holds thousands of records; unsampled parents would never be
    exported, and the SDK keeps at most OTEL_SPAN_LINK_COUNT_LIMIT links.
    """
    from opentelemetry.trace import SpanContext, TraceFlags

    links = []
    for messages in fetched.values():
        for message in messages:
            for key, value in message.headers or ():
                if key != "traceparent":
                    continue
                try:  # a foreign producer's header must not stop the loop
                    _, trace_id, span_id, flags = value.decode().split("-")
                    sampled = int(flags, 16) & TraceFlags.SAMPLED
                    context = SpanContext(
                        int(trace_id, 16),
                        int(span_id, 16),
                        is_remote=True,
                        trace_flags=TraceFlags(sampled),
                    )
                except ValueError:
                    continue
                if sampled and context.is_valid:
                    links.append(context)
    return links


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, etl: Etl) -> None:
        self._etl = etl

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._etl.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info(
            "assigned partitions", extra={"partitions": sorted(tp.partition for tp in assigned)}
        )


async def _quietly(awaitable: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(awaitable, timeout=10.0)


async def run(settings: Settings) -> int:
    telemetry.setup_process(settings, service="clickstream-etl")
    etl = Etl(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, etl.request_stop)
    try:
        await etl.run()
    finally:
        telemetry.shutdown()
    return 0
