"""Logging and tracing set-up, nothing at import time.

Call `setup_process` inside the process that exports (after gunicorn forks).
Tracing is configured by the standard `OTEL_*` variables only
(`OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER` = otlp | console | none,
`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_SAMPLER`...).
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from clickstream.config import Settings

_provider: Any = None

_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the current trace and span when inside one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_trace_ids())
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def _trace_ids() -> dict[str, str]:
    try:
        from opentelemetry import trace
    except ImportError:  # pragma: no cover - the SDK is a dependency
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


def setup_logging(settings: Settings) -> None:
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # aiokafka logs every failed reconnect at ERROR; our own code reports outages once.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def _exporters() -> list[str]:
    """OTEL_TRACES_EXPORTER, or otlp when an OTLP endpoint is configured.

    The specification defaults to otlp; we default to none when nothing says
    where a collector is, rather than retrying localhost:4318 forever.
    """
    names = os.environ.get("OTEL_TRACES_EXPORTER")
    if names is None:
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        )
        names = "otlp" if endpoint else "none"
    return [name.strip().lower() for name in names.split(",") if name.strip()]


def tracing_enabled() -> bool:
    if _provider is not None:
        return True
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(name != "none" for name in _exporters())


def install_provider(provider: Any) -> None:
    """Use a tracer provider built elsewhere (tests: an in-memory exporter)."""
    global _provider
    from opentelemetry import trace

    trace.set_tracer_provider(provider)
    _provider = provider


def tracer(name: str) -> Any:
    """A tracer when tracing is on, else None: callers skip span work entirely."""
    if not tracing_enabled():
        return None
    from opentelemetry import trace

    return trace.get_tracer(name)


def setup_process(settings: Settings, *, service: str) -> None:
    """Logging, and tracing when the OTEL_* environment asks for it."""
    global _provider
    setup_logging(settings)
    if _provider is not None or not tracing_enabled():
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import OTELResourceDetector, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)})
    resource = resource.merge(OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)
    for name in _exporters():
        exporter: Any
        if name == "none":
            continue
        if name == "console":
            exporter = ConsoleSpanExporter(out=sys.stderr)
        elif name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        else:
            logging.getLogger(__name__).warning("unknown OTEL_TRACES_EXPORTER %r ignored", name)
            continue
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider


def shutdown() -> None:
    """Flush what was traced; the provider itself lives as long as the process."""
    if _provider is not None:
        _provider.force_flush()
