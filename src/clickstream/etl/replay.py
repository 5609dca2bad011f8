"""Operators' reloads: redrive the dead-letter topic, replay a time range of the events.

Both read a snapshot (each partition up to its end offset when the command
starts), put every record through the ETL's own check (`transform.to_row`)
and the suppression list (`clickstream.privacy`), and never touch the ETL's
consumer group. Both are safe to run twice: ClickHouse keeps one row per
`event_id` (the replacing engine; analysts read FINAL), so a record loaded
twice is still one event.

- `redrive` sends the dead letters that now pass back to the events topic
  (same key, value and headers, minus the `dlq_*` ones); a record refused again
  stays in the dead-letter topic and is not sent.
- `replay` reads the events topic from a time on (offsets_for_times on every
  partition) through a consumer group of its own, and writes the records with
  the ETL's writer, committing that group's offsets after each write.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from clickstream.clickhouse.client import ClickHouse
from clickstream.clickhouse.writer import ClickHouseWriter, RowWriter
from clickstream.config import Settings
from clickstream.errors import PoisonRecord
from clickstream.etl.transform import to_row
from clickstream.kafka import kafka_client_options
from clickstream.privacy import Suppression, load_suppression

DLQ_HEADER_PREFIX = "dlq_"
REPLAY_GROUP_PREFIX = "clickstream-replay-"
REPLAY_BATCH_ROWS = 10_000
PROGRESS_EVERY = 10_000


class ReplayError(RuntimeError):
    """The reload cannot start; the message says why."""


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    timestamp: datetime
    reason: str
    source: str
    headers: tuple[tuple[str, bytes], ...]
    key: bytes | None
    value: bytes | None

    @property
    def forwarded_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith(DLQ_HEADER_PREFIX)]


@dataclass
class Tally:
    read: int = 0
    sent: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    suppressed: int = 0

    def count(self, why: str | None) -> None:
        """One record's verdict; None (it loads) is counted by whoever sends it."""
        if why == "suppressed":
            self.suppressed += 1
        elif why is not None:
            self.refused[why] += 1

    def line(self) -> str:
        refused = sum(self.refused.values())
        return (
            f"read {self.read}, sent {self.sent}, suppressed {self.suppressed}, "
            f"still refused {refused}"
        )


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> str:
    for key, value in headers:
        if key == name:
            return value.decode(errors="replace")
    return ""


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def matches(letter: DeadLetter, *, reason: str | None, since: datetime | None) -> bool:
    """The filter of `dlq list|redrive`: reason as a substring, since as a lower bound."""
    if reason is not None and reason not in letter.reason:
        return False
    return since is None or letter.timestamp >= since


async def _snapshot(
    consumer: AIOKafkaConsumer, topic: str, start: datetime | None, end: datetime | None
) -> dict[TopicPartition, tuple[int, int]]:
    """Per partition: [first, last) offsets between the two times, up to today's end."""
    # partitions_for_topic knows only subscribed topics; we assign instead.
    cluster = await consumer._client.fetch_all_metadata()
    partitions = [
        TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())
    ]
    if not partitions:
        raise ReplayError(f"topic {topic!r} not found")
    consumer.assign(partitions)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    firsts: dict[TopicPartition, int] = await consumer.beginning_offsets(partitions)
    if start is not None:
        found = await consumer.offsets_for_times({tp: _ms(start) for tp in partitions})
        firsts = {tp: found[tp].offset if found[tp] else ends[tp] for tp in partitions}
    if end is not None:
        found = await consumer.offsets_for_times({tp: _ms(end) for tp in partitions})
        ends = {tp: found[tp].offset if found[tp] else ends[tp] for tp in partitions}
    return {tp: (firsts[tp], ends[tp]) for tp in partitions if firsts[tp] < ends[tp]}


async def _read(
    consumer: AIOKafkaConsumer, ranges: dict[TopicPartition, tuple[int, int]]
) -> AsyncIterator[list[Any]]:
    """Batches of records until every partition reached the end of its range."""
    if not ranges:
        return  # and no assign([]): aiokafka's stop() then never returns
    pending = dict(ranges)
    consumer.assign(list(ranges))
    for tp, (first, _) in ranges.items():
        consumer.seek(tp, first)
    while pending:
        fetched = await consumer.getmany(*pending, timeout_ms=1000, max_records=REPLAY_BATCH_ROWS)
        for tp, messages in fetched.items():
            if tp not in pending:
                continue
            last = pending[tp][1]
            kept = [m for m in messages if m.offset < last]
            if kept:
                yield kept
            if messages and messages[-1].offset + 1 >= last:
                del pending[tp]
        for tp in list(pending):
            if await consumer.position(tp) >= pending[tp][1]:
                del pending[tp]


def _consumer(settings: Settings, group_id: str | None = None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **kafka_client_options(settings.kafka),
        group_id=group_id,
        client_id="clickstream-replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def _suppression(settings: Settings) -> Suppression:
    async with ClickHouse(settings.clickhouse) as clickhouse:
        return Suppression(await load_suppression(clickhouse, settings.clickhouse.database))


async def dead_letters(
    settings: Settings, *, reason: str | None = None, since: datetime | None = None
) -> AsyncIterator[DeadLetter]:
    consumer = _consumer(settings)
    await consumer.start()
    try:
        ranges = await _snapshot(consumer, settings.kafka.dlq_topic, since, None)
        async for messages in _read(consumer, ranges):
            for message in messages:
                headers = tuple((k, bytes(v)) for k, v in message.headers or ())
                letter = DeadLetter(
                    partition=message.partition,
                    offset=message.offset,
                    timestamp=datetime.fromtimestamp(message.timestamp / 1000, UTC),
                    reason=_header(headers, "dlq_reason"),
                    source=(
                        f"{_header(headers, 'dlq_topic')}/{_header(headers, 'dlq_partition')}"
                        f"@{_header(headers, 'dlq_offset')}"
                    ),
                    headers=headers,
                    key=message.key,
                    value=message.value,
                )
                if matches(letter, reason=reason, since=since):
                    yield letter
    finally:
        await consumer.stop()


def verdict(value: bytes | None, suppression: Suppression) -> str | None:
    """None if the record may load now, else why not ('suppressed' or the refusal)."""
    if suppression.suppressed(value):
        return "suppressed"
    try:
        to_row(value)
    except PoisonRecord as poison:
        return poison.reason
    return None


async def list_dead_letters(
    settings: Settings,
    *,
    reason: str | None,
    since: datetime | None,
    show: Callable[[DeadLetter, str | None], None],
) -> Tally:
    suppression = await _suppression(settings)
    tally = Tally()
    async for letter in dead_letters(settings, reason=reason, since=since):
        tally.read += 1
        why = verdict(letter.value, suppression)
        tally.count(why)
        show(letter, why)
    return tally


async def redrive(
    settings: Settings,
    *,
    reason: str | None,
    since: datetime | None,
    progress: Callable[[str], None] = lambda _: None,
) -> Tally:
    suppression = await _suppression(settings)
    tally = Tally()
    producer = AIOKafkaProducer(
        **kafka_client_options(settings.kafka),
        acks="all",
        enable_idempotence=True,
        client_id="clickstream-redrive",
    )
    await producer.start()
    try:
        async for letter in dead_letters(settings, reason=reason, since=since):
            tally.read += 1
            why = verdict(letter.value, suppression)
            tally.count(why)
            if why is None:
                await producer.send_and_wait(
                    settings.kafka.topic,
                    value=letter.value,
                    key=letter.key,
                    headers=letter.forwarded_headers,
                )
                tally.sent += 1
            if tally.read % PROGRESS_EVERY == 0:
                progress(tally.line())
    finally:
        await producer.stop()
    return tally


async def replay(
    settings: Settings,
    *,
    start: datetime,
    end: datetime | None,
    writer: RowWriter | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Tally:
    suppression = await _suppression(settings)
    group = f"{REPLAY_GROUP_PREFIX}{_ms(start)}-{_ms(end) if end else 'now'}"
    consumer = _consumer(settings, group)
    writer = writer or ClickHouseWriter(settings.clickhouse)
    tally = Tally()
    await consumer.start()
    try:
        ranges = await _snapshot(consumer, settings.kafka.topic, start, end)
        total = sum(last - first for first, last in ranges.values())
        progress(f"replaying {total} record(s) from {len(ranges)} partition(s) as group {group}")
        async for messages in _read(consumer, ranges):
            rows: list[bytes] = []
            for message in messages:
                tally.read += 1
                why = verdict(message.value, suppression)
                tally.count(why)
                if why is None:
                    rows.append(message.value)
            if rows:
                await writer.write(rows)
                tally.sent += len(rows)
            last = messages[-1]
            tp = TopicPartition(last.topic, last.partition)
            # The group's offsets show operators how far a replay got
            # (kafka-consumer-groups --describe); a run always starts from --from.
            with contextlib.suppress(KafkaError):
                await consumer.commit({tp: last.offset + 1})
            progress(f"{tally.line()} of {total}")
    finally:
        await consumer.stop()
        await writer.close()
    return tally
