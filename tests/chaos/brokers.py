"""What Kafka knows: partition leaders, the records of a topic, a group's offsets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaClient, AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.cluster import ClusterMetadata

# A broker that is down on purpose makes aiokafka log every failed connection.
logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Placement:
    """Where one stored event came from in Kafka."""

    partition: int
    offset: int


async def _cluster(bootstrap: str) -> ClusterMetadata:
    """Fresh metadata of every topic."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await client.bootstrap()
    try:
        await client.force_metadata_update()
        return client.cluster
    finally:
        await client.close()


async def leaders(bootstrap: str, topic: str) -> Counter[int]:
    """Broker node id -> how many of the topic's partitions it lead (-1: none)."""
    cluster = await _cluster(bootstrap)
    partitions = cluster.partitions_for_topic(topic) or set()
    return Counter(cluster.leader_for_partition(TopicPartition(topic, p)) for p in partitions)


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    found = (await _cluster(bootstrap)).partitions_for_topic(topic)
    if not found:
        raise LookupError(f"topic {topic} has no partitions in the metadata")
    return [TopicPartition(topic, p) for p in sorted(found)]


@contextlib.asynccontextmanager
async def _consumer(bootstrap: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A group-less consumer for reading, started and stopped."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        # aiokafka's group-less coordinator starts a task at start() and awaits
        # it at stop(); cancelled before it first ran, that await raises
        # CancelledError into us. One turn of the loop lets it start.
        await asyncio.sleep(0)
        await consumer.stop()


async def read_topic(bootstrap: str, topic: str) -> dict[str, list[Placement]]:
    """event_id -> every place it was written (more than one: a producer repeat)."""
    found: dict[str, list[Placement]] = {}
    async with _consumer(bootstrap) as consumer:
        partitions = await _partitions(bootstrap, topic)
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for tp, messages in (await consumer.getmany(timeout_ms=1000)).items():
                for message in messages:
                    event_id = orjson.loads(message.value)["event_id"]
                    found.setdefault(event_id, []).append(Placement(tp.partition, message.offset))
    return found


async def committed(bootstrap: str, group: str) -> dict[int, int]:
    """Partition -> the group's committed offset (the next record to read)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    async with _consumer(bootstrap) as consumer:
        partitions = await _partitions(bootstrap, topic)
        ends = await consumer.end_offsets(partitions)
    return {tp.partition: offset for tp, offset in ends.items()}


async def lag(bootstrap: str, topic: str, group: str) -> int:
    """Records the group has not committed yet; -1 if Kafka cannot say now."""
    with contextlib.suppress(Exception):
        ends = await end_offsets(bootstrap, topic)
        done = await committed(bootstrap, group)
        return sum(max(0, end - done.get(p, 0)) for p, end in ends.items())
    return -1


async def wait_for_leaders(bootstrap: str, topic: str, timeout_s: float = 60.0) -> None:
    """Until every partition has a leader again (after brokers come back)."""
    async with asyncio.timeout(timeout_s):
        while True:
            with contextlib.suppress(Exception):
                led = await leaders(bootstrap, topic)
                if -1 not in led and None not in led and sum(led.values()) > 0:
                    return
            await asyncio.sleep(0.5)
