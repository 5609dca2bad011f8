"""A batch of rows with the Kafka offsets they came from; time is passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import TopicPartition


@dataclass
class Batch:
    max_rows: int
    max_wait_s: float
    rows: list[bytes] = field(default_factory=list)
    # The Kafka record of each row, so a row ClickHouse refuses can be dead-lettered.
    sources: list[Any] = field(default_factory=list)
    # The month partition of each row (YYYYMM), to cut blocks of few partitions.
    months: list[int] = field(default_factory=list)
    # Highest offset consumed per partition, rows and dead letters alike.
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    # Lowest, so an abandoned batch can be read again from where it began.
    first_offsets: dict[TopicPartition, int] = field(default_factory=dict)
    opened_at: float | None = None
    newest_received_at: datetime | None = None
    # Producer span contexts of the batch's records (only while tracing).
    links: list[Any] = field(default_factory=list)

    def extend(
        self,
        tp: TopicPartition,
        first_offset: int,
        last_offset: int,
        rows: list[bytes],
        sources: list[Any],
        months: list[int],
        newest_received_at: datetime | None,
        now: float,
    ) -> None:
        """Offsets first..last of one partition, done; `rows` are the loadable ones.

        `sources[i]` is the Kafka record of `rows[i]`, `months[i]` its month. The offsets without a
        row were dead-lettered: they are committed with the batch all the same.
        """
        if self.opened_at is None:
            self.opened_at = now
        self.rows += rows
        self.sources += sources
        self.months += months
        if newest_received_at is not None:
            self.newest_received_at = newest_received_at
        self.first_offsets.setdefault(tp, first_offset)
        self.offsets[tp] = last_offset

    def due(self, now: float) -> bool:
        if len(self.rows) >= self.max_rows:
            return True
        return self.opened_at is not None and now - self.opened_at >= self.max_wait_s

    def wait_s(self, now: float) -> float:
        """How long a poll may block before this batch must be flushed."""
        if self.opened_at is None:
            return self.max_wait_s
        return max(0.0, self.max_wait_s - (now - self.opened_at))

    @property
    def empty(self) -> bool:
        return not self.offsets

    def commit_offsets(self) -> dict[TopicPartition, int]:
        """Kafka's convention: commit the next offset to read."""
        return {tp: offset + 1 for tp, offset in self.offsets.items()}

    def successor(self) -> Batch:
        return Batch(max_rows=self.max_rows, max_wait_s=self.max_wait_s)
