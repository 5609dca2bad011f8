"""A private real stack and the API as production runs it, for hostile input.

The suite brings up its own single-topology stack (Kafka and ClickHouse on
ports of their own, state in .cache/local-hostile) so it never touches the
stack `make up` or another suite runs, and stops it at the end whatever
happened. It does so only when `make test-hostile` asks for it
(START_TEST_STACK=1): a bare `pytest` skips the suite rather than install and
start a stack. The API is `python -m clickstream api`: gunicorn, two uvicorn
workers, a real Kafka producer, and a body read deadline of 2 s instead of
10 s so the slow-client tests finish quickly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from clickstream_local import kafka_topics, probes
from clickstream_local.settings import LocalSettings
from clickstream_local.stack import Stack, open_stack
from tests.hostile.api_process import (
    API_PORT,
    BODY_READ_TIMEOUT_S,
    KEEPALIVE_S,
    MAX_BODY_BYTES,
    WORKERS,
    ApiConfig,
    ApiProcess,
)

REPO = Path(__file__).resolve().parents[2]
# Gunicorn master + 2 workers idle near 160 MB together; one request may cost
# at most about the body limit a few times over, so this is bounded, not tight.
MAX_TOTAL_RSS_BYTES = 400 * 1024 * 1024
MEMORY_REPORT = pytest.StashKey[str]()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    report = config.stash.get(MEMORY_REPORT, None)
    if report:
        terminalreporter.write_line(report)


@pytest.fixture(scope="session")
def hostile_stack() -> Iterator[Stack]:
    if os.environ.get("START_TEST_STACK") != "1":
        pytest.skip("the hostile suite starts its own stack only under `make test-hostile`")
    settings = LocalSettings(
        state_dir=REPO / ".cache" / "local-hostile",
        cache_dir=REPO / ".cache",
        kafka_port=29092,
        clickhouse_port=29000,
        clickhouse_http_port=28123,
        zookeeper_port=22181,
        api_port=API_PORT,
        etl_metrics_port=29108,
        start_pipeline=False,
    )
    stack = open_stack(settings, "single")
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="session")
def api(
    hostile_stack: Stack, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[ApiProcess]:
    bootstrap = hostile_stack.plan.kafka_bootstrap
    topic = f"hostile.{uuid.uuid4().hex[:10]}"
    probes.run_coroutine(lambda: kafka_topics.ensure_topics(bootstrap, {topic: 3}, replication=1))
    process = ApiProcess(
        ApiConfig(
            port=API_PORT,
            bootstrap_servers=bootstrap,
            topic=topic,
            workers=WORKERS,
            body_read_timeout_s=BODY_READ_TIMEOUT_S,
            max_body_bytes=MAX_BODY_BYTES,
            keepalive_s=KEEPALIVE_S,
        ),
        tmp_path_factory.mktemp("api") / "api.log",
    )
    try:
        process.start()
        yield process
        pytestconfig.stash[MEMORY_REPORT] = _memory_report(process)
    finally:
        process.stop()
        probes.run_coroutine(lambda: kafka_topics.delete_topics(bootstrap, [topic]))


@pytest.fixture(autouse=True)
def workers_survive(api: ApiProcess) -> Iterator[None]:
    """After every test: the same workers serve (none died) and memory stayed bounded."""
    yield
    assert api.workers() == api.initial_workers, (
        f"a worker died: {sorted(api.initial_workers)} -> {sorted(api.workers())}\n{api.log_tail()}"
    )
    peak = max(api.peak_rss_bytes, api.total_rss_bytes())
    assert peak < MAX_TOTAL_RSS_BYTES, f"master + workers peaked at {peak / 2**20:.0f} MiB"


def _memory_report(api: ApiProcess) -> str:
    mib = 2**20
    workers = sorted(api.workers())
    survived = "the same" if frozenset(workers) == api.initial_workers else "CHANGED"
    return (
        f"hostile API: workers {workers} ({survived} as at start); RSS of master + workers "
        f"{api.initial_rss_bytes / mib:.0f} MiB at start, {api.total_rss_bytes() / mib:.0f} MiB "
        f"at end, peak {api.peak_rss_bytes / mib:.0f} MiB (bound {MAX_TOTAL_RSS_BYTES / mib:.0f})"
    )
