"""`clickstream etl`'s loop: poll Kafka, batch, hand batches to the loader; rebalances.

The one rule: offsets are committed only after ClickHouse accepted every row
before them (the loader's job). Two batches at most are in hand: one filling
from Kafka while the other is written. When the written one is slow (a
ClickHouse outage) the partitions are paused and still polled, so memory stays
bounded and the group membership stays alive. A record that can never load
goes to the dead-letter topic, and only then is its offset part of a batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from clickstream import telemetry
from clickstream.backoff import Backoff, GaveUp
from clickstream.clickhouse.client import ClickHouseError
from clickstream.clickhouse.writer import RowWriter
from clickstream.config import Settings
from clickstream.etl.batch import Batch
from clickstream.etl.clients import KafkaClients
from clickstream.etl.dead_letters import DeadLetters
from clickstream.etl.intake import take
from clickstream.etl.links import producer_links
from clickstream.etl.loader import Loader
from clickstream.etl.metrics import EtlMetrics, StatusServer
from clickstream.etl.state import EtlState
from clickstream.suppression import SuppressionRefresher

log = logging.getLogger(__name__)

# How long a revoked partition's batch may take to finish before it is dropped
# (its offsets stay uncommitted, so the next owner reads the rows again).
REVOKE_FLUSH_TIMEOUT_S = 10.0


class Etl:
    """`kafka` builds fresh, unstarted clients: a client whose start failed is not reused."""

    def __init__(
        self,
        settings: Settings,
        *,
        kafka: Callable[[], KafkaClients],
        writer: RowWriter,
        metrics: EtlMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        suppression: SuppressionRefresher | None = None,
    ) -> None:
        self.settings = settings
        # Erased people's ids (clickstream erase): their records are skipped.
        self._suppression = suppression
        self.metrics = metrics = metrics or EtlMetrics()
        self.state = EtlState(metrics, clock)
        self._kafka = kafka
        self._writer = writer
        self._clock = clock
        etl = settings.etl
        self._backoff = Backoff(etl.retry_initial_s, etl.retry_max_s)
        self._batch = Batch(max_rows=etl.batch_max_rows, max_wait_s=etl.batch_max_wait_s)
        self._writing: asyncio.Task[bool] | None = None
        self._writing_batch: Batch | None = None
        # Held while a fetch is turned into rows and while a rebalance flushes.
        self._lock = asyncio.Lock()
        self._clients: KafkaClients | None = None
        self._loader: Loader | None = None
        self._dead_letters: DeadLetters | None = None
        self._tracer = telemetry.tracer(__name__)
        self._status: StatusServer | None = None

    # -- lifecycle ---------------------------------------------------------------

    def request_stop(self) -> None:
        self.state.request_stop()

    @property
    def live(self) -> bool:
        return self.state.live

    @property
    def ready(self) -> bool:
        return self._clients is not None and self.state.clickhouse_ok

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
            if await self._load_suppression() and await self._connect():
                await self._consume()
        finally:
            await self._shutdown()
            await status.stop()

    async def _load_suppression(self) -> bool:
        """The suppression list, before any record is read; False if stopped first."""
        refresher = self._suppression
        if refresher is None:
            return True

        def failed(error: BaseException, failures: int) -> None:
            log.warning("suppression list not readable yet: %r", error)

        try:
            await self._backoff.retry(
                refresher.start, retry_on=ClickHouseError, stop=self.state.stop, on_error=failed
            )
        except GaveUp:
            return False
        return True

    async def _connect(self) -> bool:
        """Start the Kafka clients, retrying with the shared backoff; False if stopped first."""
        if self.state.stopping:
            return False
        kafka = self.settings.kafka

        async def attempt() -> KafkaClients:
            clients = self._kafka()
            clients.consumer.subscribe([kafka.topic], listener=_Rebalance(self))
            try:
                await clients.consumer.start()
                await clients.dead_letters.start()
            except BaseException:
                await _quietly(clients.consumer.stop())
                await _quietly(clients.dead_letters.stop())
                raise
            return clients

        def failed(error: BaseException, failures: int) -> None:
            log.warning("kafka not reachable yet: %r", error)

        try:
            clients = await self._backoff.retry(
                attempt, retry_on=(KafkaError, OSError), stop=self.state.stop, on_error=failed
            )
        except GaveUp:
            return False
        self._clients = clients
        self._dead_letters = DeadLetters(
            clients.dead_letters,
            topic=kafka.dlq_topic,
            backoff=self._backoff,
            stop=self.state.drain,
            metrics=self.metrics,
        )
        self._loader = Loader(
            self._writer,
            clients.consumer,
            self._dead_letters,
            max_months=self.settings.etl.max_partitions_per_insert,
            backoff=self._backoff,
            state=self.state,
            metrics=self.metrics,
            tracer=self._tracer,
        )
        self.state.consuming()
        log.info("consuming", extra={"topic": kafka.topic, "group": self.settings.etl.group_id})
        with contextlib.suppress(*ClickHouseError):
            await self._writer.ping()
            self.state.clickhouse(True)
        return True

    async def _shutdown(self) -> None:
        clients = self._clients
        if clients is not None:
            async with self._lock:
                if not self._batch.empty:
                    await self._hand_off()
                await self._wait_for_writer()
            await _quietly(clients.consumer.stop())
            await _quietly(clients.dead_letters.stop())
        if self._suppression is not None:
            await self._suppression.stop()
        await self._writer.close()

    # -- the loop ---------------------------------------------------------------

    async def _consume(self) -> None:
        assert self._clients is not None and self._dead_letters is not None
        consumer, dead_letters = self._clients.consumer, self._dead_letters
        suppression = None if self._suppression is None else self._suppression.suppression
        while not self.state.stopping:
            batch = self._batch
            room = max(1, batch.max_rows - len(batch.rows))
            fetched = await consumer.getmany(
                timeout_ms=int(batch.wait_s(self._clock()) * 1000), max_records=room
            )
            self.state.progressed()
            now = self._clock()
            # No call per record while nobody is erased, the usual case.
            suppressed = (
                suppression.suppressed if suppression is not None and len(suppression) else None
            )
            async with self._lock:
                batch = self._batch
                if self._tracer is not None:
                    batch.links += producer_links(fetched)
                for tp, messages in fetched.items():
                    chunk = await take(messages, dead_letters, suppressed)
                    if chunk.reread_from is not None:
                        self._seek(tp, chunk.reread_from)
                    if chunk.last >= messages[0].offset:
                        batch.extend(
                            tp,
                            messages[0].offset,
                            chunk.last,
                            chunk.rows,
                            chunk.sources,
                            chunk.months,
                            chunk.newest_received_at,
                            now,
                        )
                    self.metrics.records_consumed.inc(len(messages))
                if batch.due(now):
                    await self._hand_off()

    # -- hand-off to the loader ------------------------------------------------------
    # The full batch is written in a task of its own while the next one fills,
    # so reading Kafka overlaps ClickHouse's work. Batches are handed off one
    # at a time, so offsets are still committed in order.

    async def _hand_off(self) -> None:
        """Start writing the current batch once the previous one is done."""
        if not await self._wait_for_writer():
            return
        assert self._loader is not None
        batch, self._batch = self._batch, self._batch.successor()
        self._writing_batch = batch
        self._writing = asyncio.create_task(self._loader.load(batch), name="etl-write")

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
        assert self._clients is not None
        consumer = self._clients.consumer
        self.state.progressed()
        fetched = await consumer.getmany(timeout_ms=0)
        for tp, messages in fetched.items():
            # Partitions assigned meanwhile are not paused: put their records back.
            consumer.seek(tp, messages[0].offset)
        self._pause()

    def _pause(self) -> None:
        if self._clients is not None:
            consumer = self._clients.consumer
            consumer.pause(*consumer.assignment())

    def _resume(self) -> None:
        if self._clients is not None:
            consumer = self._clients.consumer
            consumer.resume(*consumer.assignment())

    # -- rebalance ---------------------------------------------------------------

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Finish both batches within a bound, or abandon them uncommitted."""
        if self._writing is None and self._batch.empty:
            return
        self.state.begin_revoke()
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
            self.state.end_revoke()

    def _abandon(self, *batches: Batch) -> None:
        """Forget unwritten batches; re-read what we keep from where they began."""
        rows = sum(len(b.rows) for b in batches)
        log.warning("abandoning %d unwritten rows (offsets not committed)", rows)
        starts: dict[TopicPartition, int] = {}
        for batch in batches:
            for tp, offset in batch.first_offsets.items():
                starts[tp] = min(offset, starts.get(tp, offset))
        for tp, offset in starts.items():
            self._seek(tp, offset)

    def _seek(self, tp: TopicPartition, offset: int) -> None:
        """Read `tp` again from `offset`, if it is still ours (else its next owner will)."""
        if self._clients is not None and tp in self._clients.consumer.assignment():
            self._clients.consumer.seek(tp, offset)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, etl: Etl) -> None:
        self._etl = etl

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._etl.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info(
            "assigned partitions", extra={"partitions": sorted(tp.partition for tp in assigned)}
        )


async def _quietly(awaitable: Awaitable[Any]) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(awaitable, timeout=10.0)
