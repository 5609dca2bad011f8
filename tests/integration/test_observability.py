"""Tracing across HTTP -> Kafka -> ClickHouse, and metrics that reconcile."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from clickstream import telemetry
from clickstream.config import Settings
from tests.integration.pipeline import (
    api_client,
    event,
    post_events,
    produce_raw,
    running_etl,
    wait_for_ids,
    wait_until,
)


def attributes(span: ReadableSpan) -> Mapping[str, Any]:
    return span.attributes or {}


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.install_provider(provider)
    yield exporter


async def test_one_trace_from_the_request_to_the_insert_that_stored_it(
    settings: Settings, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    body = event("click")
    async with api_client(settings) as client, running_etl(settings):
        response = await client.post("/api/v1/events", json={"event": body})
        assert response.status_code == 200
        await wait_for_ids(settings, {body["event_id"]})
    finished = spans.get_finished_spans()
    [server] = [
        s
        for s in finished
        if s.kind == SpanKind.SERVER and attributes(s).get("url.path") == "/api/v1/events"
    ]
    [producer] = [s for s in finished if s.kind == SpanKind.PRODUCER]
    assert producer.context.trace_id == server.context.trace_id
    assert producer.parent is not None and producer.parent.span_id == server.context.span_id
    assert attributes(producer)["messaging.message.id"] == body["event_id"]
    inserts = [
        s
        for s in finished
        if s.kind == SpanKind.CLIENT and attributes(s).get("db.system") == "clickhouse"
    ]
    linked = [
        s
        for s in inserts
        if any(link.context.span_id == producer.context.span_id for link in s.links)
    ]
    assert len(linked) == 1
    [insert] = linked
    assert insert.links[0].context.trace_id == producer.context.trace_id
    assert attributes(insert)["db.operation.name"] == "INSERT"
    assert attributes(insert)["db.namespace"] == settings.clickhouse.database


def series(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(values: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str) -> float:
    return sum(v for (n, _), v in values.items() if n == name)


async def test_metrics_move_and_reconcile(settings: Settings) -> None:
    """accepted by the API = inserted + dead-lettered + still in Kafka."""
    events = [
        event(kind, user_id=f"u{i}")
        for i, kind in enumerate(["click", "page_view", "video_complete"] * 100)
    ]
    async with api_client(settings) as client, running_etl(settings) as etl:
        await post_events(client, events)
        # A poison record straight into the topic: it must be dead-lettered, not lost.
        await produce_raw(settings, b"not json")
        await wait_for_ids(settings, {e["event_id"] for e in events})

        async def drained() -> bool:
            values = series(etl.metrics.render().decode())
            return total(values, "clickstream_etl_dead_lettered_total") == 1 and all(
                v == 0 for (n, _), v in values.items() if n == "clickstream_etl_consumer_lag"
            )

        await wait_until(drained, timeout_s=30, what="the ETL to commit everything")
        api = series((await client.get("/metrics")).text)
        async with httpx.AsyncClient() as plain:
            port = etl.status_port
            etl_text = (await plain.get(f"http://127.0.0.1:{port}/metrics")).text
    etl_values = series(etl_text)
    accepted = total(api, "clickstream_api_events_accepted_total")
    inserted = total(etl_values, "clickstream_etl_rows_inserted_total")
    dead = total(etl_values, "clickstream_etl_dead_lettered_total")
    lag = total(etl_values, "clickstream_etl_consumer_lag")
    assert accepted == 300
    assert (
        api[("clickstream_api_events_accepted_total", frozenset({("event_type", "click")}))] == 100
    )
    assert (
        api[
            (
                "clickstream_api_requests_total",
                frozenset({("route", "/api/v1/events/batch"), ("status", "200")}),
            )
        ]
        == 1
    )
    assert total(api, "clickstream_api_produce_seconds_count") >= 1
    # The poison record was produced around the API, so it is not in `accepted`.
    assert (accepted + 1, lag) == (inserted + dead, 0)
    assert etl_values[("clickstream_etl_clickhouse_up", frozenset())] == 1
    assert total(etl_values, "clickstream_etl_insert_seconds_count") >= 1
    assert total(etl_values, "clickstream_etl_freshness_seconds_count") >= 1
    assert total(etl_values, "clickstream_etl_records_consumed_total") == 301
