"""Write, then commit: bounded commits, nothing committed when given up, one span per insert."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clickstream.backoff import Backoff
from clickstream.etl import loader
from clickstream.etl.batch import Batch
from clickstream.etl.dead_letters import DeadLetters
from clickstream.etl.loader import Loader
from clickstream.etl.metrics import EtlMetrics
from clickstream.etl.state import EtlState

from .fakes import (
    P0,
    RECEIVED_AT,
    FakeConsumer,
    FakeDeadLetters,
    FakeRecord,
    FakeWriter,
    Log,
    envelope,
    month_of,
)


def sources(rows: Sequence[bytes]) -> list[FakeRecord]:
    return [FakeRecord("events", 0, offset, row) for offset, row in enumerate(rows)]


def batch_of(*rows: bytes) -> Batch:
    batch = Batch(max_rows=100, max_wait_s=1.0)
    batch.extend(
        P0,
        0,
        len(rows) - 1,
        list(rows),
        sources(rows),
        [month_of(r) for r in rows],
        RECEIVED_AT,
        now=0.0,
    )
    return batch


def loader_for(
    log: Log, *, tracer: object = None, max_months: int = 100
) -> tuple[Loader, FakeConsumer, FakeWriter]:
    consumer, writer, metrics = FakeConsumer(log), FakeWriter(log), EtlMetrics()
    state = EtlState(metrics)
    backoff = Backoff(0.001, 0.002)
    dead_letters = DeadLetters(
        FakeDeadLetters(log), topic="events.dlq", backoff=backoff, stop=state.drain, metrics=metrics
    )
    built = Loader(
        writer,
        consumer,
        dead_letters,
        max_months=max_months,
        backoff=backoff,
        state=state,
        metrics=metrics,
        tracer=tracer,
    )
    return built, consumer, writer


async def test_a_batch_given_up_commits_nothing() -> None:
    log: Log = []
    load, consumer, writer = loader_for(log)
    writer.refuse = lambda rows: OSError("down")
    load._state.drain.set()

    assert await load.load(batch_of(envelope())) is False
    assert consumer.commits == []
    assert len(writer.attempts) == 1


async def test_commit_is_bounded_and_a_stuck_commit_still_counts_the_rows_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loader, "COMMIT_TIMEOUT_S", 0.05)
    log: Log = []
    load, consumer, writer = loader_for(log)

    async def stuck(offsets: object) -> None:
        await asyncio.sleep(60)

    consumer.commit = stuck  # type: ignore[method-assign]
    row = envelope()

    assert await asyncio.wait_for(load.load(batch_of(row)), timeout=1) is True
    assert writer.stored == [row]
    assert load._metrics.commits._value.get() == 0


async def test_commit_is_the_next_offset_and_sets_the_lag() -> None:
    log: Log = []
    load, consumer, _ = loader_for(log)
    consumer.append(P0, *(envelope() for _ in range(5)))

    assert await load.load(batch_of(envelope(), envelope()))

    assert consumer.commits == [{P0: 2}]
    assert load._metrics.consumer_lag.labels("0")._value.get() == 3


async def test_one_span_per_insert_named_from_the_writer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    log: Log = []
    load, _, writer = loader_for(log, tracer=provider.get_tracer(__name__))

    assert await load.load(batch_of(envelope(), envelope()))

    [span] = exporter.get_finished_spans()
    assert span.name == "INSERT clickstream.events_ingest"
    assert span.attributes is not None
    assert span.attributes["db.query.text"] == writer.insert_query
    assert span.attributes["db.collection.name"] == "events_ingest"
    assert span.attributes["db.operation.batch.size"] == 2
