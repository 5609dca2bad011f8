"""Write, then commit: the only place that knows the order.

A batch is inserted in blocks of few month partitions, each retried
byte-identically with the shared backoff while ClickHouse is unavailable
(replicated block deduplication then absorbs an insert that landed but whose
answer was lost), and only after ClickHouse accepted it are its offsets
committed, `offset + 1` per partition. A block ClickHouse refuses for its
rows is bisected: the good halves are stored, each row refused alone goes to
the dead-letter topic with the server's code and message, and the batch is
committed; one bad row never stalls a partition. A batch given up
(rebalance, shutdown grace over, a dead letter not sent) commits nothing:
whoever reads the partitions next reads its rows again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from clickstream.backoff import Backoff, GaveUp
from clickstream.clickhouse.client import ClickHouseError, error_code
from clickstream.clickhouse.writer import RowWriter
from clickstream.etl.batch import Batch
from clickstream.etl.dead_letters import DeadLetters, Record
from clickstream.etl.metrics import EtlMetrics
from clickstream.etl.months import blocks
from clickstream.etl.refusals import give_up_on_block
from clickstream.etl.state import EtlState

log = logging.getLogger(__name__)

# A commit that takes longer is given up; the next batch's commit covers it.
COMMIT_TIMEOUT_S = 30.0
# ClickHouse's messages can carry a stack trace: a header needs the first lines.
ERROR_MESSAGE_BYTES = 2048


class Refused(Exception):
    """ClickHouse refused a block for its rows: retrying it unchanged will not help."""


class Committer(Protocol):
    """The consumer, as the loader sees it."""

    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...

    def assignment(self) -> set[TopicPartition]: ...

    def highwater(self, tp: TopicPartition) -> int | None: ...


class Loader:
    def __init__(
        self,
        writer: RowWriter,
        consumer: Committer,
        dead_letters: DeadLetters,
        *,
        max_months: int,
        backoff: Backoff,
        state: EtlState,
        metrics: EtlMetrics,
        tracer: Any = None,
    ) -> None:
        self._writer = writer
        self._consumer = consumer
        self._dead_letters = dead_letters
        self._max_months = max_months
        self._backoff = backoff
        self._state = state
        self._metrics = metrics
        self._tracer = tracer
        self._committed: dict[TopicPartition, int] = {}

    async def load(self, batch: Batch) -> bool:
        """Write `batch`, then commit its offsets; False if given up (nothing committed)."""
        written = await (self._write(batch) if self._tracer is None else self._traced(batch))
        if not written:
            return False
        if batch.newest_received_at is not None:
            freshness = (datetime.now(UTC) - batch.newest_received_at).total_seconds()
            self._metrics.freshness_seconds.observe(max(0.0, freshness))
        await self._commit(batch.commit_offsets())
        self._update_lag()
        return True

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            # aiokafka retries a retriable commit error without end: bound it.
            async with asyncio.timeout(COMMIT_TIMEOUT_S):
                await self._consumer.commit(offsets)
            self._metrics.commits.inc()
            self._committed.update(offsets)
        except (CommitFailedError, KafkaError, TimeoutError) as error:
            # The rows are stored; whoever owns the partitions now reads them
            # again and the replacing engine collapses the repeats.
            log.warning("offset commit failed after insert: %r", error)

    async def _traced(self, batch: Batch) -> bool:
        """One span per batch insert, linked to the producer span of its records."""
        from opentelemetry.trace import Link, SpanKind, Status, StatusCode

        writer = self._writer
        with self._tracer.start_as_current_span(
            f"INSERT {writer.database}.{writer.table}",
            kind=SpanKind.CLIENT,
            links=[Link(context) for context in batch.links],
            attributes={
                "db.system": "clickhouse",
                "db.namespace": writer.database,
                "db.operation.name": "INSERT",
                "db.collection.name": writer.table,
                "db.query.text": writer.insert_query,
                "db.operation.batch.size": len(batch.rows),
                "server.address": writer.host,
                "server.port": writer.port,
            },
        ) as span:
            written = await self._write(batch)
            if not written:
                span.set_status(Status(StatusCode.ERROR, "abandoned"))
            return written

    async def _write(self, batch: Batch) -> bool:
        try:
            if not batch.rows:
                await self._insert(batch.rows)
            else:
                for rows, sources in blocks(
                    batch.rows, batch.sources, batch.months, self._max_months
                ):
                    await self._store(rows, sources)
        except GaveUp:
            return False
        return True

    async def _store(self, rows: list[bytes], sources: list[Record]) -> None:
        """Insert `rows`; if ClickHouse refuses them, bisect down to the rows at fault.

        Halves are cut the same way every time, so a half retried (after a
        restart too) is byte-identical again; a half once stored is never sent
        again. A refused block stores nothing: the materialized view turns the
        whole block into rows before any of it reaches a table.
        """
        try:
            await self._insert(rows)
        except Refused as refusal:
            if len(rows) > 1:
                middle = len(rows) // 2
                await self._store(rows[:middle], sources[:middle])
                await self._store(rows[middle:], sources[middle:])
                return
            await self._dead_letter(sources[0], refusal.__cause__ or refusal)

    async def _dead_letter(self, source: Record, error: BaseException) -> None:
        code, message = error_code(error) or (0, repr(error))
        log.warning(
            "clickhouse refused a row",
            extra={"code": code, "partition": source.partition, "offset": source.offset},
        )
        await self._dead_letters.send(
            source,
            "clickhouse refused the row",
            "refused",
            [
                ("dlq_error_code", str(code).encode()),
                ("dlq_error_message", message.encode()[:ERROR_MESSAGE_BYTES]),
            ],
        )

    async def _insert(self, rows: Sequence[bytes]) -> None:
        """Insert `rows` until ClickHouse takes them.

        `GaveUp` when the drain signal fires; `Refused` when the rows are at
        fault. The retried block is the same list, byte for byte: replicated
        block deduplication recognises a block by its hash.
        """
        started = time.perf_counter()

        async def attempt() -> None:
            nonlocal started
            started = time.perf_counter()
            if rows:
                await self._writer.write(rows)
            else:
                # Dead letters alone: nothing to insert, but the probe keeps
                # clickhouse_up and readiness honest.
                await self._writer.ping()

        def failed(error: BaseException, failures: int) -> None:
            if rows and give_up_on_block(error, failures):
                # ClickHouse answered: it is up, the rows are wrong.
                self._state.clickhouse(True)
                raise Refused(str(error)) from error
            self._metrics.insert_retries.inc()
            if self._state.clickhouse_ok:
                log.warning("clickhouse insert failed, retrying: %r", error)
            self._state.clickhouse(False)

        await self._backoff.retry(
            attempt, retry_on=ClickHouseError, stop=self._state.drain, on_error=failed
        )
        if rows:
            self._metrics.insert_seconds.observe(time.perf_counter() - started)
            self._metrics.batch_rows.observe(len(rows))
            self._metrics.rows_inserted.inc(len(rows))
        self._state.clickhouse(True)

    def _update_lag(self) -> None:
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            committed = self._committed.get(tp)
            if highwater is not None and committed is not None:
                self._metrics.consumer_lag.labels(str(tp.partition)).set(
                    max(0, highwater - committed)
                )
