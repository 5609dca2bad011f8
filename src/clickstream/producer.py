"""The Kafka sink the API hands events to (aiokafka lives here and in etl/).

200 means durable: `send` returns only after every record of the call was
acknowledged by the in-sync replicas (acks=all, idempotent producer). When
Kafka is unreachable, overloaded, or silent past the deadline, it raises
`Unavailable` and the API answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from clickstream import telemetry
from clickstream.config import ApiSettings, KafkaSettings
from clickstream.errors import Unavailable
from clickstream.events import Record
from clickstream.kafka import kafka_client_options

log = logging.getLogger(__name__)

PROBE_INTERVAL_S = 1.0
# A stuck idempotent producer (sequence numbers out of step after a broker
# blip, aiokafka issue 1017) never recovers by itself: after this many
# consecutive failed sends while the cluster answers metadata, start a new one.
RESTART_AFTER_FAILURES = 5
RESTART_MIN_INTERVAL_S = 10.0
# A coalesced flush happens after linger_ms, or at once past this many records.
FLUSH_AT_RECORDS = 5_000
PARTITION_CACHE_SIZE = 100_000


class EventSink(Protocol):
    @property
    def ready(self) -> bool: ...

    async def send(self, records: Sequence[Record]) -> None: ...


def _retrieve_later(deliveries: list[tuple[int, asyncio.Future[Any]]]) -> None:
    """Batches already handed to aiokafka when a later one failed: nobody awaits
    them now, so collect their outcome (no "exception never retrieved")."""
    for _, delivery in deliveries:
        delivery.add_done_callback(lambda future: future.cancelled() or future.exception())


def _end_spans(spans: list[Any], error: BaseException | None) -> None:
    if not spans:
        return
    from opentelemetry.trace import Status, StatusCode

    for span in spans:
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


class KafkaSink:
    """An aiokafka producer that reconnects, reports readiness and fails fast."""

    def __init__(
        self,
        kafka: KafkaSettings,
        api: ApiSettings,
        *,
        on_flush: Callable[[float], None] | None = None,
    ) -> None:
        self._kafka = kafka
        self._api = api
        # Told how long each coalesced flush took to be acknowledged (seconds).
        self._on_flush = on_flush
        self._tracer = telemetry.tracer(__name__)
        self._producer: AIOKafkaProducer | None = None
        self._ready = False
        self._in_flight = 0
        self._failures = 0
        self._last_restart = 0.0
        self._probe_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._start_failed_logged = False
        self._partitions = 0
        self._partition_cache: dict[bytes, int] = {}
        self._pending: list[tuple[Sequence[Record], asyncio.Future[None]]] = []
        self._pending_records = 0
        self._flush_handle: asyncio.TimerHandle | None = None
        self._shipping: set[asyncio.Task[None]] = set()

    @property
    def ready(self) -> bool:
        return self._ready

    async def start(self) -> None:
        """Start the producer if Kafka answers; keep trying in the background."""
        await self._ensure_producer()
        self._probe_task = asyncio.create_task(self._probe_loop(), name="kafka-probe")

    async def stop(self) -> None:
        self._stopping = True
        if self._probe_task is not None:
            self._probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe_task
        # Drain: whatever requests handed over is shipped before the producer closes.
        self._flush()
        if self._shipping:
            await asyncio.wait(self._shipping, timeout=self._api.produce_timeout_s)
        await self._close_producer()

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **kafka_client_options(self._kafka),
            acks="all",
            enable_idempotence=True,
            # We coalesce requests ourselves (below); a linger here would wait again.
            linger_ms=0,
            max_batch_size=256 * 1024,
            client_id="clickstream-api",
        )

    async def _ensure_producer(self) -> None:
        if self._producer is not None:
            return
        producer = self._new_producer()
        try:
            await asyncio.wait_for(producer.start(), timeout=self._api.produce_timeout_s)
            partitions = await asyncio.wait_for(
                producer.partitions_for(self._kafka.topic), timeout=self._api.produce_timeout_s
            )
        except (KafkaError, OSError, TimeoutError) as error:
            if self._ready or not self._start_failed_logged:
                log.warning("kafka producer cannot start yet: %r", error)
                self._start_failed_logged = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=1.0)
            self._ready = False
            return
        self._producer = producer
        self._set_partitions(len(partitions))
        self._start_failed_logged = False
        self._failures = 0
        self._ready = True
        log.info("kafka producer started", extra={"bootstrap": self._kafka.bootstrap_servers})

    def _set_partitions(self, count: int) -> None:
        if count != self._partitions:
            self._partitions = count
            self._partition_cache.clear()

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        self._ready = False
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=self._api.produce_timeout_s)

    async def _probe_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(PROBE_INTERVAL_S)
            try:
                await self._probe()
            except Exception:  # a probe must never end the loop
                log.exception("kafka probe failed")

    async def _probe(self) -> None:
        if self._producer is None:
            await self._ensure_producer()
            return
        try:
            metadata = await asyncio.wait_for(
                self._producer.client.fetch_all_metadata(), timeout=2.0
            )
            partitions = metadata.partitions_for_topic(self._kafka.topic)
            if partitions:
                self._set_partitions(len(partitions))
        except (KafkaError, OSError, TimeoutError):
            if self._ready:
                log.warning("kafka unreachable: not ready")
            self._ready = False
            return
        if not self._ready:
            log.info("kafka reachable again: ready")
        self._ready = True
        now = time.monotonic()
        if (
            self._failures >= RESTART_AFTER_FAILURES
            and now - self._last_restart > RESTART_MIN_INTERVAL_S
        ):
            log.warning("restarting kafka producer after %d failed sends", self._failures)
            self._last_restart = now
            await self._close_producer()
            await self._ensure_producer()

    async def send(self, records: Sequence[Record]) -> None:
        if self._producer is None or not self._ready or not self._partitions:
            raise Unavailable("kafka is unavailable")
        if self._in_flight + len(records) > self._api.max_in_flight:
            raise Unavailable("too many events waiting for kafka")
        spans: list[Any] = []
        if self._tracer is not None:
            records, spans = self._traced(records)
        loop = asyncio.get_running_loop()
        delivered = loop.create_future()
        self._pending.append((records, delivered))
        self._pending_records += len(records)
        self._in_flight += len(records)
        if self._pending_records >= FLUSH_AT_RECORDS:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = loop.call_later(self._api.linger_ms / 1000, self._flush)
        try:
            # `delivered` is this request's own future: giving up cancels only it.
            async with asyncio.timeout(self._api.produce_timeout_s):
                await delivered
        # Anything _ship reports (Kafka's errors, or a failure it logged) means
        # "not acknowledged": the client may retry with the same event_id.
        except Exception as error:
            self._failures += 1
            _end_spans(spans, error)
            raise Unavailable(f"kafka did not acknowledge: {type(error).__name__}") from error
        finally:
            self._in_flight -= len(records)
        self._failures = 0
        _end_spans(spans, None)

    def _traced(self, records: Sequence[Record]) -> tuple[list[Record], list[Any]]:
        """A producer span per record, its W3C trace context in the record's headers."""
        from opentelemetry import propagate, trace
        from opentelemetry.trace import SpanKind

        topic = self._kafka.topic
        traced, spans = [], []
        for record in records:
            span = self._tracer.start_span(
                f"publish {topic}",
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "publish",
                    "messaging.destination.name": topic,
                    "messaging.kafka.message.key": record.key.decode(errors="replace"),
                    "messaging.message.id": record.event_id,
                    "clickstream.event_type": record.event_type,
                },
            )
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span))
            headers = [*record.headers, *((k, v.encode()) for k, v in carrier.items())]
            traced.append(dataclasses.replace(record, headers=headers))
            spans.append(span)
        return traced, spans

    # -- coalescing -------------------------------------------------------------
    # Requests arriving within linger_ms share one record batch per partition,
    # built with aiokafka's batch API: per event that is an append to a batch,
    # not a future and a queue entry of its own as with producer.send().

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        pending, self._pending, self._pending_records = self._pending, [], 0
        if pending:
            task = asyncio.create_task(self._ship(pending))
            self._shipping.add(task)
            task.add_done_callback(self._shipping.discard)

    async def _ship(self, pending: list[tuple[Sequence[Record], asyncio.Future[None]]]) -> None:
        started = time.perf_counter()
        producer = self._producer
        by_partition: dict[int, list[Record]] = {}
        touched: list[set[int]] = []
        for records, _ in pending:
            partitions = set()
            for record in records:
                partition = self._partition_of(record.key)
                by_partition.setdefault(partition, []).append(record)
                partitions.add(partition)
            touched.append(partitions)
        failed: dict[int, BaseException] = {}
        deliveries: list[tuple[int, asyncio.Future[Any]]] = []
        try:
            assert producer is not None
            for partition, records in by_partition.items():
                for builder in self._builders(producer, records):
                    delivery = await producer.send_batch(
                        builder, self._kafka.topic, partition=partition
                    )
                    deliveries.append((partition, delivery))
            results = await asyncio.gather(*(d for _, d in deliveries), return_exceptions=True)
            for (partition, _), result in zip(deliveries, results, strict=True):
                if isinstance(result, BaseException):
                    failed[partition] = result
        except (KafkaError, AssertionError) as error:
            failed = dict.fromkeys(by_partition, error)
            _retrieve_later(deliveries)
        except Exception as error:  # a bug here must fail the requests (503), not hang them
            log.exception("shipping a batch to kafka failed")
            failed = dict.fromkeys(by_partition, error)
            _retrieve_later(deliveries)
        if not failed and self._on_flush is not None:
            self._on_flush(time.perf_counter() - started)
        for (_, delivered), partitions in zip(pending, touched, strict=True):
            if delivered.done():
                continue
            errors = [failed[p] for p in partitions if p in failed]
            if errors:
                delivered.set_exception(errors[0])
            else:
                delivered.set_result(None)

    @staticmethod
    def _builders(producer: AIOKafkaProducer, records: list[Record]) -> list[Any]:
        builders = [producer.create_batch()]
        for record in records:
            if (
                builders[-1].append(
                    key=record.key, value=record.value, timestamp=None, headers=record.headers
                )
                is None
            ):
                builders.append(producer.create_batch())
                builders[-1].append(
                    key=record.key, value=record.value, timestamp=None, headers=record.headers
                )
        return builders

    def _partition_of(self, key: bytes) -> int:
        """Kafka's default partitioner (murmur2 of the key), cached per key."""
        partition = self._partition_cache.get(key)
        if partition is None:
            if len(self._partition_cache) > PARTITION_CACHE_SIZE:
                self._partition_cache.clear()
            partition = (murmur2(key) & 0x7FFFFFFF) % self._partitions
            self._partition_cache[key] = partition
        return partition
