"""The local real stack as a whole: up, down, status, and one component at a time."""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clickstream.config import Settings
from clickstream_local import kafka_topics, probes, processes
from clickstream_local.clickhouse_config import MIGRATOR_USER
from clickstream_local.components import Component, StackPlan, plan
from clickstream_local.provision import (
    ProvisionError,
    kafka_libs_dir,
    print_safely,
    provision,
    say,
)
from clickstream_local.settings import LocalSettings, Topology

START_ORDER = ("zookeeper", "kafka", "clickhouse", "api", "etl", "rollup")
READY_TIMEOUT_S = 120.0


class StackError(RuntimeError):
    """The stack cannot do what was asked; the message says why."""


@dataclass
class Stack:
    local: LocalSettings
    # The product's own settings (topic names, timeouts): what the stack
    # creates topics and migrates with; `service_settings()` aims them at it.
    settings: Settings
    plan: StackPlan

    @property
    def state_dir(self) -> Path:
        return self.local.state_dir.resolve()

    # -- whole stack ---------------------------------------------------------

    def up(self) -> None:
        (self.state_dir / "topology").write_text(self.plan.topology)
        for kind in START_ORDER:
            group = [c for c in self.plan.components if c.kind == kind]
            if not group:
                continue
            for component in group:
                if not processes.is_running(component):
                    say(f"starting {component.name}")
                    processes.start(component)
            self.wait_ready(group)
            if kind == "clickhouse":
                self._after_storage_ready()

    def _after_storage_ready(self) -> None:
        say("creating Kafka topics and applying ClickHouse migrations")
        service = self.service_settings()
        replication = min(3, len([c for c in self.plan.components if c.kind == "kafka"]))
        probes.run_coroutine(
            lambda: kafka_topics.ensure_topics(
                self.plan.kafka_bootstrap,
                {
                    service.kafka.topic: self.local.partitions,
                    service.kafka.dlq_topic: 1,
                },
                replication=replication,
            )
        )
        from clickstream.clickhouse.migrations import migrate

        applied = probes.run_coroutine(lambda: migrate(service.clickhouse))
        if applied:
            say(f"applied migrations: {', '.join(applied)}")

    def down(self) -> None:
        for kind in reversed(START_ORDER):
            for component in reversed([c for c in self.plan.components if c.kind == kind]):
                if processes.stop(component):
                    say(f"stopped {component.name}")

    def wait_ready(self, components: list[Component], timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        pending = list(components)
        while pending:
            for component in list(pending):
                if not processes.is_running(component):
                    raise StackError(
                        f"{component.name} exited during start-up; see {component.log_file}"
                        f"\n{_tail(component.log_file)}"
                    )
                if probes.ready(component):
                    say(f"{component.name} ready")
                    pending.remove(component)
            if pending and time.monotonic() > deadline:
                names = ", ".join(c.name for c in pending)
                raise StackError(f"not ready after {timeout_s:.0f}s: {names}")
            if pending:
                time.sleep(0.5)

    # -- one component ---------------------------------------------------------

    def start(self, name: str, *, wait: bool = True) -> None:
        chosen = self.plan.select(name)
        for component in chosen:
            processes.start(component)
        if wait:
            self.wait_ready(chosen)

    def stop(self, name: str, *, kill: bool = False) -> None:
        for component in self.plan.select(name):
            processes.stop(component, kill=kill)

    # -- reporting ---------------------------------------------------------

    def status(self) -> dict[str, Any]:
        rows = []
        for component in self.plan.components:
            pid = processes.read_pid(component)
            rows.append(
                {
                    "name": component.name,
                    "kind": component.kind,
                    "pid": pid,
                    "running": pid is not None,
                    "healthy": pid is not None and probes.ready(component),
                    "ports": component.ports,
                    "data_dir": str(component.data_dir),
                    "log_file": str(component.log_file),
                    "rss_bytes": processes.rss_bytes(pid) if pid else 0,
                }
            )
        return {
            "topology": self.plan.topology,
            "kafka_bootstrap": self.plan.kafka_bootstrap,
            "api_url": self.plan.api_url,
            "healthy": all(row["healthy"] for row in rows),
            "components": rows,
        }

    def service_settings(self) -> Settings:
        """The settings a process of this pipeline uses against this stack.

        As the migrator, who owns the schema: what the stack migrates with and
        what tests (each creating a database of its own) connect as. The ETL
        runs as its own user (components._pipeline).
        """
        return self.settings.model_copy(
            update={
                "kafka": self.settings.kafka.model_copy(
                    update={"bootstrap_servers": self.plan.kafka_bootstrap}
                ),
                "clickhouse": self.settings.clickhouse.model_copy(
                    update={
                        "host": "127.0.0.1",
                        "port": self.local.clickhouse_port,
                        "user": MIGRATOR_USER,
                        "alt_hosts": ",".join(
                            f"127.0.0.1:{node.port}" for node in self.plan.clickhouse_nodes[1:]
                        ),
                        "replicated": self.plan.topology == "cluster",
                    }
                ),
            }
        )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def running_topology(local: LocalSettings) -> Topology | None:
    path = local.state_dir.resolve() / "topology"
    if not path.exists():
        return None
    text = path.read_text().strip()
    return "cluster" if text == "cluster" else "single"


def open_stack(
    local: LocalSettings, topology: Topology | None = None, *, settings: Settings | None = None
) -> Stack:
    """The stack for `topology`, or for the one last brought up.

    `settings` are the product's, from the environment unless given.
    """
    chosen = topology or running_topology(local) or local.topology
    try:
        libs = provision(local.cache_dir.resolve())
    except ProvisionError as error:
        raise StackError(str(error)) from error
    local.state_dir.resolve().mkdir(parents=True, exist_ok=True)
    return Stack(local, settings or Settings(), plan(local, chosen, libs))


def find_stack(local: LocalSettings, *, settings: Settings | None = None) -> Stack | None:
    """The stack last brought up under `local.state_dir`, or None if there is none.

    Unlike `open_stack` this installs nothing, so a test run can look for a
    stack without reaching apt-get or Maven.
    """
    topology = running_topology(local)
    if topology is None:
        return None
    libs = kafka_libs_dir(local.cache_dir.resolve())
    return Stack(local, settings or Settings(), plan(local, topology, libs))


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequested(BaseException):
    """A stop signal arrived: unwinds start-up or the foreground wait alike.

    A BaseException, like KeyboardInterrupt, so no `except Exception` on the
    way swallows it.
    """


def _raise_stop(signum: int, frame: object) -> None:
    # Later signals are ignored (in `_stop`): a second Ctrl-C must not cut the
    # orderly stop short, which is bounded anyway (SIGKILL after 30 s).
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise StopRequested(signal.Signals(signum).name)


def up(local: LocalSettings, settings: Settings, topology: Topology | None, *, detach: bool) -> int:
    current = running_topology(local)
    if topology and current and current != topology:
        stack = open_stack(local, current, settings=settings)
        if any(processes.is_running(c) for c in stack.plan.components):
            raise StackError(
                f"the stack runs as {current!r}; `clickstream local down` first to switch to {topology!r}"
            )
    stack = open_stack(local, topology, settings=settings)
    # Every component runs in a session of its own, out of reach of the
    # terminal's signals: whatever ends this process must stop them first.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in STOP_SIGNALS}
    try:
        stack.up()
        _print_ready(stack)
        if detach:
            return 0
        while True:
            time.sleep(3600)
    except StopRequested as stop:
        _stop(stack, f"{stop}: stopping the stack")
        return 0
    except BaseException:
        _stop(stack, "start-up failed; stopping what was started")
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(stack: Stack, reason: str) -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    say(reason)
    stack.down()


def _print_ready(stack: Stack) -> None:
    seed = json.dumps(
        {
            "event": {
                "event_type": "click",
                "timestamp": "2024-10-03T14:30:00Z",
                "user_id": "956939f6-7a98-4bf1-9949-500e5dd20fa0",
                "country": "US",
                "device": "mobile",
                "element": "button_submit",
                "page_url": "https://example.com/submit",
            }
        }
    )
    print_safely(f"clickstream is ready ({stack.plan.topology}): API {stack.plan.api_url}")
    if any(c.kind == "api" for c in stack.plan.components):
        print_safely(
            f"  curl -s -X POST {stack.plan.api_url}/api/v1/events "
            f"-H 'Content-Type: application/json' -d '{seed}'"
        )
    node = stack.plan.clickhouse_nodes[0]
    print_safely(
        f"  clickhouse-client --port {node.port} -q "
        "'SELECT event_type, count() FROM clickstream.events FINAL GROUP BY event_type'"
    )
