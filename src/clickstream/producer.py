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

from clickstream import telemetry
from clickstream.coalescer import Coalescer, Partitioner
from clickstream.config import KafkaSettings
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


class EventSink(Protocol):
    @property
    def ready(self) -> bool: ...

    async def send(self, records: Sequence[Record]) -> None: ...


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
    """An aiokafka producer that reconnects, reports readiness and fails fast.

    It admits a request (ready, under `max_in_flight` events waiting) and
    traces it; the `Coalescer` turns requests into Kafka batches.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        *,
        produce_timeout_s: float,
        linger_ms: float,
        max_in_flight: int,
        on_flush: Callable[[float], None] | None = None,
    ) -> None:
        self._kafka = kafka
        self._produce_timeout_s = produce_timeout_s
        self._max_in_flight = max_in_flight
        self._tracer = telemetry.tracer(__name__)
        self._producer: AIOKafkaProducer | None = None
        self._ready = False
        self._in_flight = 0
        self._failures = 0
        self._last_restart = 0.0
        self._probe_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._start_failed_logged = False
        self._partitioner = Partitioner()
        self._coalescer = Coalescer(
            lambda: self._producer,
            self._partitioner.partition_of,
            kafka.topic,
            linger_s=linger_ms / 1000,
            deadline_s=produce_timeout_s,
            on_flush=on_flush,
        )

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
        await self._coalescer.drain()
        await self._close_producer()

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **kafka_client_options(self._kafka),
            acks="all",
            enable_idempotence=True,
            # The Coalescer groups requests already; a linger here would wait again.
            linger_ms=0,
            max_batch_size=256 * 1024,
            client_id="clickstream-api",
        )

    async def _ensure_producer(self) -> None:
        if self._producer is not None:
            return
        producer = self._new_producer()
        try:
            await asyncio.wait_for(producer.start(), timeout=self._produce_timeout_s)
            partitions = await asyncio.wait_for(
                producer.partitions_for(self._kafka.topic), timeout=self._produce_timeout_s
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
        self._partitioner.resize(len(partitions))
        self._start_failed_logged = False
        self._failures = 0
        self._ready = True
        log.info("kafka producer started", extra={"bootstrap": self._kafka.bootstrap_servers})

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        self._ready = False
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=self._produce_timeout_s)

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
                self._partitioner.resize(len(partitions))
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
        if self._producer is None or not self._ready or not self._partitioner.count:
            raise Unavailable("kafka is unavailable")
        count = len(records)
        if self._in_flight + count > self._max_in_flight:
            raise Unavailable("too many events waiting for kafka")
        spans: list[Any] = []
        if self._tracer is not None:
            records, spans = self._traced(records)
        self._in_flight += count
        try:
            await self._coalescer.send(records)
        # Anything the coalescer reports (Kafka's errors, the deadline, or a
        # failure it logged) means "not acknowledged": the client may retry
        # with the same event_id.
        except Exception as error:
            self._failures += 1
            _end_spans(spans, error)
            raise Unavailable(f"kafka did not acknowledge: {type(error).__name__}") from error
        finally:
            self._in_flight -= count
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
