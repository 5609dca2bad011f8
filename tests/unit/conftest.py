"""Unit tests run on plain values: no network, no environment leaking in."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings see only what a test sets; tracing never exports; logging is restored.

    The API's lifespan calls `telemetry.setup_process`, which replaces the root
    logger's handlers; pytest's own capture handlers come back afterwards.
    """
    for name in list(os.environ):
        if name.startswith("CLICKSTREAM_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    root = logging.getLogger()
    aiokafka = logging.getLogger("aiokafka")
    handlers, level, aiokafka_level = root.handlers[:], root.level, aiokafka.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    aiokafka.setLevel(aiokafka_level)
