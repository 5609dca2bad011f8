"""Trace links from a fetch's records to the producer spans that sent them."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition


def producer_links(fetched: dict[TopicPartition, list[Any]]) -> list[Any]:
    """Span contexts from the records' `traceparent` headers, sampled ones only.

    A batch holds thousands of records; unsampled parents would never be
    exported, and the SDK keeps at most OTEL_SPAN_LINK_COUNT_LIMIT links.
    """
    from opentelemetry.trace import SpanContext, TraceFlags

    links = []
    for messages in fetched.values():
        for message in messages:
            for key, value in message.headers or ():
                if key != "traceparent":
                    continue
                try:  # a foreign producer's header must not stop the loop
                    _, trace_id, span_id, flags = value.decode().split("-")
                    sampled = int(flags, 16) & TraceFlags.SAMPLED
                    context = SpanContext(
                        int(trace_id, 16),
                        int(span_id, 16),
                        is_remote=True,
                        trace_flags=TraceFlags(sampled),
                    )
                except ValueError:
                    continue
                if sampled and context.is_valid:
                    links.append(context)
    return links
