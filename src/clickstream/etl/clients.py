"""The Kafka clients the ETL is given, as the small seams it uses of aiokafka's."""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

from aiokafka import ConsumerRebalanceListener, TopicPartition

from clickstream.etl.dead_letters import DeadLetterProducer
from clickstream.etl.loader import Committer


class Consumer(Committer, Protocol):
    """What the ETL uses of aiokafka's AIOKafkaConsumer."""

    def subscribe(self, topics: list[str], listener: ConsumerRebalanceListener) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def getmany(
        self, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]: ...

    def pause(self, *partitions: TopicPartition) -> None: ...

    def resume(self, *partitions: TopicPartition) -> None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None: ...


class DeadLetterClient(DeadLetterProducer, Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class KafkaClients(NamedTuple):
    consumer: Consumer
    dead_letters: DeadLetterClient
