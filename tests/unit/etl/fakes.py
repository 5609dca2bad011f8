"""Fakes of the ETL's seams (consumer, writer, dead-letter producer), for unit tests only.

All three append to one shared `log`, so a test can check the order of
writes, dead letters and commits across them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaConnectionError
from asynch.errors import ServerException

from clickstream import events
from clickstream.errors import PoisonRecord
from clickstream.etl.transform import to_row

TOPIC = "events"
P0 = TopicPartition(TOPIC, 0)
P1 = TopicPartition(TOPIC, 1)
RECEIVED_AT = datetime(2024, 10, 3, 14, 30, 1, tzinfo=UTC)
POISON = b"{not json"

Log = list[tuple[str, Any]]


async def until(condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.002)


def envelope(**fields: Any) -> bytes:
    """A valid click envelope, as the API writes it, with a fresh event_id."""
    body = {**events.EXAMPLES["click"], **fields}
    parsed = events.single_request.validate_json(orjson.dumps({"event": body})).event
    return events.to_record(parsed, event_id=uuid.uuid4(), received_at=RECEIVED_AT).value


def month_of(row: bytes) -> int:
    """The month the runner would record for `row` (0 for one it would not load)."""
    try:
        return to_row(row)[2]
    except PoisonRecord:
        return 0


def server_error(message: str, code: int) -> BaseException:
    """ClickHouse's own refusal, as asynch raises it."""
    error: BaseException = ServerException(message, code)  # type: ignore[no-untyped-call]
    return error


@dataclass
class FakeRecord:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class FakeConsumer:
    """Partitions as in-memory logs; pause, seek and commit behave like Kafka's."""

    def __init__(self, log: Log, assigned: Sequence[TopicPartition] = (P0,)) -> None:
        self.log = log
        self.logs: dict[TopicPartition, list[FakeRecord]] = {tp: [] for tp in assigned}
        self.position: dict[TopicPartition, int] = dict.fromkeys(assigned, 0)
        self.paused: set[TopicPartition] = set()
        self.committed: dict[TopicPartition, int] = {}
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.polls = 0
        self.paused_polls = 0
        self.listener: ConsumerRebalanceListener | None = None
        self.started = self.stopped = False
        self.start_error: BaseException | None = None

    def append(self, tp: TopicPartition, *values: bytes | None) -> list[int]:
        records = self.logs[tp]
        offsets = []
        for value in values:
            records.append(FakeRecord(tp.topic, tp.partition, len(records), value))
            offsets.append(len(records) - 1)
        return offsets

    def assign(self, tp: TopicPartition) -> None:
        """A partition assigned by a rebalance, read from its start."""
        self.logs[tp] = []
        self.position[tp] = 0

    def subscribe(self, topics: list[str], listener: ConsumerRebalanceListener) -> None:
        assert topics == [TOPIC]
        self.listener = listener

    async def start(self) -> None:
        if self.start_error is not None:
            raise self.start_error
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def getmany(
        self, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]:
        self.polls += 1
        if self.paused and self.paused >= set(self.logs):
            self.paused_polls += 1
        room = max_records if max_records is not None else 1_000_000
        fetched: dict[TopicPartition, list[Any]] = {}
        for tp, records in self.logs.items():
            if tp in self.paused or room <= 0:
                continue
            start = self.position[tp]
            taken = records[start : start + room]
            if taken:
                fetched[tp] = taken
                self.position[tp] = start + len(taken)
                room -= len(taken)
        # Yield like a real poll, briefly, so tests stay fast.
        await asyncio.sleep(0 if fetched else min(timeout_ms / 1000, 0.005))
        return fetched

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.log.append(("commit", dict(offsets)))
        self.commits.append(dict(offsets))
        self.committed.update(offsets)

    def assignment(self) -> set[TopicPartition]:
        return set(self.logs)

    def highwater(self, tp: TopicPartition) -> int | None:
        return len(self.logs[tp])

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused.difference_update(partitions)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition, offset))
        self.position[partition] = offset

    async def revoke(self) -> None:
        assert self.listener is not None
        await self.listener.on_partitions_revoked(set(self.logs))


class FakeWriter:
    """Stores blocks; `refuse(rows)` decides per attempt (an exception to raise, or None)."""

    database = "clickstream"
    table = "events_ingest"
    insert_query = "INSERT INTO clickstream.events_ingest (envelope) VALUES"
    host = "127.0.0.1"
    port = 9000

    def __init__(self, log: Log) -> None:
        self.log = log
        self.attempts: list[list[bytes]] = []
        self.stored: list[bytes] = []
        self.refuse: Callable[[list[bytes]], BaseException | None] = lambda rows: None
        # Cleared to hold writes (an insert that takes a long time).
        self.gate = asyncio.Event()
        self.gate.set()
        self.closed = False

    async def write(self, rows: Sequence[bytes]) -> None:
        block = list(rows)
        self.attempts.append(block)
        await self.gate.wait()
        error = self.refuse(block)
        if error is not None:
            self.log.append(("refused", len(block)))
            raise error
        self.stored += block
        self.log.append(("write", len(block)))

    async def ping(self) -> None:
        error = self.refuse([])
        if error is not None:
            raise error

    async def close(self) -> None:
        self.closed = True


class FakeDeadLetters:
    """The dead-letter producer; fails every send while `down`."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.sent: list[tuple[str, bytes | None, bytes | None, dict[str, bytes]]] = []
        self.down = False
        self.failures = 0
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send_and_wait(
        self, topic: str, value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Any:
        await asyncio.sleep(0)
        if self.down:
            self.failures += 1
            raise KafkaConnectionError("dead-letter broker down")
        self.sent.append((topic, value, key, dict(headers)))
        self.log.append(("dead_letter", int(dict(headers)["dlq_offset"])))
        return None
