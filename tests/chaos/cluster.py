"""The chaos suite's own cluster stack: its own ports and state directory.

`python -m tests.chaos` and `python -m tests.benchmarks.all` bring up the
`cluster` topology here, never on the default ports, so they do not touch a
developer's `make up` stack. Every value is a default: a `CLICKSTREAM_LOCAL__*`
variable set by the caller wins.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from clickstream_local import processes
from clickstream_local.components import Component
from clickstream_local.settings import LocalSettings
from clickstream_local.stack import Stack, StackError, open_stack, running_topology
from tests.chaos.freeze import thaw

ROOT = Path(__file__).resolve().parents[2]

# Below the kernel's ephemeral range (32768-60999 here): a port in it can be
# taken by any outgoing connection while its broker is down, and the broker
# then cannot bind it again when restarted.
ISOLATED_ENV = {
    "CLICKSTREAM_LOCAL__STATE_DIR": str(ROOT / ".cache" / "local-chaos"),
    "CLICKSTREAM_LOCAL__KAFKA_PORT": "19092",
    "CLICKSTREAM_LOCAL__CLICKHOUSE_PORT": "19000",
    "CLICKSTREAM_LOCAL__CLICKHOUSE_HTTP_PORT": "18123",
    "CLICKSTREAM_LOCAL__ZOOKEEPER_PORT": "12181",
    "CLICKSTREAM_LOCAL__API_PORT": "18000",
    "CLICKSTREAM_LOCAL__ETL_METRICS_PORT": "19108",
}


def isolated_settings() -> LocalSettings:
    """Settings for the isolated stack; also exported, so child processes agree."""
    for name, value in ISOLATED_ENV.items():
        os.environ.setdefault(name, value)
    return LocalSettings()


@contextlib.contextmanager
def cluster_stack(settings: LocalSettings, *, keep: bool = False) -> Iterator[Stack]:
    """The cluster stack, up (and its api/etl components too); down afterwards unless `keep`."""
    current = running_topology(settings)
    if current is not None and current != "cluster":
        stale = open_stack(settings, current)
        if any(processes.is_running(c) for c in stale.plan.components):
            raise StackError(
                f"{settings.state_dir} runs the {current!r} topology; bring it down first"
            )
    stack = open_stack(settings, "cluster")
    previous = signal.getsignal(signal.SIGTERM)

    def _terminate(signum: int, frame: FrameType | None) -> None:
        # Unwind like Ctrl-C, so every `finally` (ours and the scenarios') runs.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        stack.up()
        yield stack
    finally:
        signal.signal(signal.SIGTERM, previous)
        if not keep:
            stack.down()


def infrastructure(stack: Stack) -> list[Component]:
    return [c for c in stack.plan.components if c.kind not in ("api", "etl", "rollup")]


def restore_infrastructure(stack: Stack) -> None:
    """Thaw what a fault froze, start what it left stopped (idempotent), wait until it answers."""
    for component in infrastructure(stack):
        thaw(component)
    stopped = [c for c in infrastructure(stack) if not processes.is_running(c)]
    for kind in ("zookeeper", "kafka", "clickhouse"):
        group = [c for c in stopped if c.kind == kind]
        for component in group:
            processes.start(component)
        if group:
            stack.wait_ready(group)
