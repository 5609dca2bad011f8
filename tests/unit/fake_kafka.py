"""The unit tests' stand-in for aiokafka's producer: batches kept, acknowledged on demand."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.errors import KafkaTimeoutError

from clickstream.events import Record

TOPIC = "events"


def record(key: str, value: str) -> Record:
    return Record(
        key=key.encode(), value=value.encode(), headers=[], event_id=value, event_type="click"
    )


class FakeBatch:
    """Takes `capacity` records, then refuses (aiokafka returns None when full)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.values: list[bytes] = []

    def append(
        self, *, key: bytes, value: bytes, timestamp: None, headers: list[tuple[str, bytes]]
    ) -> object | None:
        if len(self.values) >= self.capacity:
            return None
        self.values.append(value)
        return object()


class FakeSender:
    """Keeps every batch; acknowledges at once unless told to hold or fail a partition."""

    def __init__(self, capacity: int = 1_000) -> None:
        self.capacity = capacity
        self.sent: list[tuple[int, FakeBatch]] = []
        self.deliveries: list[asyncio.Future[Any]] = []
        self.hold = False
        self.failing: dict[int, BaseException] = {}
        self.refuse_after: int | None = None
        # Set once a batch was handed over: the flush is under way.
        self.shipped = asyncio.Event()

    def create_batch(self) -> FakeBatch:
        return FakeBatch(self.capacity)

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        assert topic == TOPIC
        if self.refuse_after is not None and len(self.sent) >= self.refuse_after:
            raise KafkaTimeoutError()
        self.sent.append((partition, batch))
        self.shipped.set()
        delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.deliveries.append(delivery)
        if not self.hold:
            self.settle(delivery, partition)
        return delivery

    def settle(self, delivery: asyncio.Future[Any], partition: int) -> None:
        if partition in self.failing:
            delivery.set_exception(self.failing[partition])
        else:
            delivery.set_result(None)

    def release(self) -> None:
        for (partition, _), delivery in zip(self.sent, self.deliveries, strict=True):
            if not delivery.done():
                self.settle(delivery, partition)

    def values(self, partition: int | None = None) -> list[list[bytes]]:
        return [batch.values for p, batch in self.sent if partition in (None, p)]


class FakeProducer(FakeSender):
    """FakeSender with the lifecycle calls KafkaSink makes (no probe: it waits 1 s)."""

    def __init__(self, partitions: int = 1) -> None:
        super().__init__()
        self.partitions = set(range(partitions))
        self.started = False
        self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def partitions_for(self, topic: str) -> set[int]:
        assert topic == TOPIC
        return self.partitions
