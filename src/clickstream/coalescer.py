"""Requests -> one record batch per partition -> each request's future.

Requests arriving within the linger share one record batch per partition,
built with aiokafka's batch API: per event that is an append to a batch, not
a future and a queue entry of its own as with producer.send(). A request is
acknowledged only when every partition it touched was; it fails if any of
them failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from clickstream.errors import Unavailable
from clickstream.events import Record

log = logging.getLogger(__name__)

# A coalesced flush happens after the linger, or at once past this many records.
FLUSH_AT_RECORDS = 5_000
PARTITION_CACHE_SIZE = 100_000

_Pending = list[tuple[Sequence[Record], asyncio.Future[None]]]


class BatchBuilder(Protocol):
    """aiokafka's BatchBuilder: `append` returns None when the batch is full."""

    def append(
        self, *, key: bytes, value: bytes, timestamp: None, headers: list[tuple[str, bytes]]
    ) -> object | None: ...


class BatchSender(Protocol):
    """The part of AIOKafkaProducer the coalescer ships through."""

    def create_batch(self) -> BatchBuilder: ...

    async def send_batch(
        self, batch: BatchBuilder, topic: str, *, partition: int
    ) -> asyncio.Future[Any]: ...


class Partitioner:
    """Kafka's default partitioner (murmur2 of the key), cached per key."""

    def __init__(self) -> None:
        self.count = 0
        self._cache: dict[bytes, int] = {}

    def resize(self, count: int) -> None:
        if count != self.count:
            self.count = count
            self._cache.clear()

    def partition_of(self, key: bytes) -> int:
        partition = self._cache.get(key)
        if partition is None:
            if len(self._cache) > PARTITION_CACHE_SIZE:
                self._cache.clear()
            partition = (murmur2(key) & 0x7FFFFFFF) % self.count
            self._cache[key] = partition
        return partition


def _retrieve_later(deliveries: list[asyncio.Future[Any]]) -> None:
    """Batches already handed to aiokafka when a later one failed: nobody awaits
    them now, so collect their outcome (no "exception never retrieved")."""
    for delivery in deliveries:
        delivery.add_done_callback(lambda future: future.cancelled() or future.exception())


class Coalescer:
    """Ships what requests hand over, one flush per linger or per size cut."""

    def __init__(
        self,
        sender: Callable[[], BatchSender | None],
        partition_of: Callable[[bytes], int],
        topic: str,
        *,
        linger_s: float,
        deadline_s: float,
        flush_at_records: int = FLUSH_AT_RECORDS,
        on_flush: Callable[[float], None] | None = None,
    ) -> None:
        # Asked at each flush: the producer is replaced on restart, None while down.
        self._sender = sender
        self._partition_of = partition_of
        self._topic = topic
        self._linger_s = linger_s
        self._deadline_s = deadline_s
        self._flush_at_records = flush_at_records
        # Told how long each flush took to be acknowledged (seconds).
        self._on_flush = on_flush
        self._pending: _Pending = []
        self._pending_records = 0
        self._flush_handle: asyncio.TimerHandle | None = None
        self._shipping: set[asyncio.Task[None]] = set()

    async def send(self, records: Sequence[Record]) -> None:
        """Return once Kafka acknowledged every record, or raise why not.

        Past the deadline this raises TimeoutError; the records may still be
        shipped (the client's retry carries the same event_id).
        """
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future[None] = loop.create_future()
        self._pending.append((records, delivered))
        self._pending_records += len(records)
        if self._pending_records >= self._flush_at_records:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = loop.call_later(self._linger_s, self._flush)
        # `delivered` is this request's own future: giving up cancels only it.
        async with asyncio.timeout(self._deadline_s):
            await delivered

    async def drain(self) -> None:
        """Ship whatever requests handed over and wait (within the deadline) for it."""
        self._flush()
        if self._shipping:
            await asyncio.wait(self._shipping, timeout=self._deadline_s)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        pending, self._pending, self._pending_records = self._pending, [], 0
        if pending:
            task = asyncio.create_task(self._ship(pending))
            self._shipping.add(task)
            task.add_done_callback(self._shipping.discard)

    async def _ship(self, pending: _Pending) -> None:
        started = time.perf_counter()
        sender = self._sender()
        partition_of = self._partition_of
        by_partition: dict[int, list[Record]] = {}
        touched: list[set[int]] = []
        for records, _ in pending:
            partitions = set()
            for record in records:
                partition = partition_of(record.key)
                by_partition.setdefault(partition, []).append(record)
                partitions.add(partition)
            touched.append(partitions)
        failed: dict[int, BaseException] = {}
        deliveries: list[asyncio.Future[Any]] = []
        partition_of_delivery: list[int] = []
        try:
            if sender is None:
                raise Unavailable("no kafka producer")
            for partition, records in by_partition.items():
                for builder in _builders(sender, records):
                    deliveries.append(
                        await sender.send_batch(builder, self._topic, partition=partition)
                    )
                    partition_of_delivery.append(partition)
            results = await asyncio.gather(*deliveries, return_exceptions=True)
            for partition, result in zip(partition_of_delivery, results, strict=True):
                if isinstance(result, BaseException):
                    failed[partition] = result
        except (KafkaError, Unavailable) as error:
            failed = dict.fromkeys(by_partition, error)
            _retrieve_later(deliveries)
        except Exception as error:  # a bug here must fail the requests (503), not hang them
            log.exception("shipping a batch to kafka failed")
            failed = dict.fromkeys(by_partition, error)
            _retrieve_later(deliveries)
        if not failed and self._on_flush is not None:
            self._on_flush(time.perf_counter() - started)
        for (_, delivered), partitions in zip(pending, touched, strict=True):
            # A request that gave up (deadline, disconnect) cancelled its own future.
            if delivered.done():
                continue
            errors = [failed[p] for p in partitions if p in failed]
            if errors:
                delivered.set_exception(errors[0])
            else:
                delivered.set_result(None)


def _builders(sender: BatchSender, records: list[Record]) -> list[BatchBuilder]:
    builders = [sender.create_batch()]
    for record in records:
        if (
            builders[-1].append(
                key=record.key, value=record.value, timestamp=None, headers=record.headers
            )
            is None
        ):
            builders.append(sender.create_batch())
            builders[-1].append(
                key=record.key, value=record.value, timestamp=None, headers=record.headers
            )
    return builders
