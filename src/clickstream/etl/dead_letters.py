"""The dead-letter topic: records that can never load, with why, in their headers.

A send is retried with the shared backoff while Kafka is away, but never past
the ETL's drain signal (a rebalance, or the end of the shutdown grace): then
it raises `GaveUp`, and the caller must not commit the record's offset, or the
record would be lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka.errors import KafkaError

from clickstream.backoff import Backoff, StopSignal
from clickstream.etl.metrics import EtlMetrics

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes]]


class Record(Protocol):
    """What the ETL reads of a Kafka record (aiokafka's ConsumerRecord)."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> Headers: ...


class DeadLetterProducer(Protocol):
    async def send_and_wait(
        self, topic: str, value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Any: ...


class DeadLetters:
    def __init__(
        self,
        producer: DeadLetterProducer,
        *,
        topic: str,
        backoff: Backoff,
        stop: StopSignal,
        metrics: EtlMetrics,
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._backoff = backoff
        self._stop = stop
        self._metrics = metrics

    async def send(self, record: Record, reason: str, kind: str, extra: Headers = ()) -> None:
        """Hand `record` to the dead-letter topic; `GaveUp` if Kafka did not take it in time."""
        headers = [
            ("dlq_reason", reason.encode()),
            *extra,
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            *list(record.headers or ()),
        ]

        async def attempt() -> None:
            await self._producer.send_and_wait(
                self._topic, value=record.value, key=record.key, headers=headers
            )

        def failed(error: BaseException, failures: int) -> None:
            log.warning("dead-letter send failed, retrying: %r", error)

        await self._backoff.retry(attempt, retry_on=(KafkaError,), stop=self._stop, on_error=failed)
        log.warning(
            "dead-lettered a record",
            extra={"reason": reason, "partition": record.partition, "offset": record.offset},
        )
        self._metrics.dead_lettered.labels(kind).inc()
