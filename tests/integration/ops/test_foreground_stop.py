"""`clickstream local up` in the foreground stops every component on a stop signal,
even after the reader of its output is gone (`make run 2>&1 | tee run.log`, then
Ctrl-C: tee dies with the supervisor, whose next message meets a dead pipe).

Each case brings up a stack of its own (own state directory, own free ports)
beside the one the other tests use, so it is slow. They run with the single
topology only: the stacks they start are single ones whatever runs beside, and
three of them starting beside the cluster load CI's two cores, and a red CI
run's cluster suite stalled at its first ON CLUSTER statement after these.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clickstream_local import processes
from clickstream_local.settings import LocalSettings
from clickstream_local.stack import Stack, find_stack

pytestmark = pytest.mark.slow

READY_LINE = b"clickstream is ready"
START_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 150.0


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports() -> dict[str, int]:
    """Ports for a single stack, with the neighbours its components use (+100, +9)."""
    for base in range(21000, 31000, 50):
        ports = {
            "api_port": base,
            "kafka_port": base + 1,
            "clickhouse_port": base + 2,
            "clickhouse_http_port": base + 20,
            "zookeeper_port": base + 21,
            "etl_metrics_port": base + 22,
        }
        needed = [*ports.values(), base + 101, base + 11]
        if all(_free(port) for port in needed):
            return ports
    raise AssertionError("no free ports for a second stack")


def _read_until_ready(process: subprocess.Popen[bytes]) -> bytes:
    assert process.stdout is not None
    seen = b""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT_S
    while READY_LINE not in seen:
        assert time.monotonic() < deadline, f"not ready in time:\n{seen.decode()[-3000:]}"
        assert process.poll() is None, f"exited during start-up:\n{seen.decode()[-3000:]}"
        if selector.select(timeout=1.0):
            seen += os.read(process.stdout.fileno(), 65536)
    selector.close()
    return seen


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda sig: sig.name
)
def test_a_stop_signal_stops_every_component_with_the_output_pipe_closed(
    stack: Stack, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    ports = free_ports()
    local = LocalSettings(
        state_dir=tmp_path / "state",
        cache_dir=stack.local.cache_dir.resolve(),
        api_port=ports["api_port"],
        kafka_port=ports["kafka_port"],
        clickhouse_port=ports["clickhouse_port"],
        clickhouse_http_port=ports["clickhouse_http_port"],
        zookeeper_port=ports["zookeeper_port"],
        etl_metrics_port=ports["etl_metrics_port"],
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLICKSTREAM_LOCAL__")},
        "CLICKSTREAM_LOCAL__STATE_DIR": str(local.state_dir),
        "CLICKSTREAM_LOCAL__CACHE_DIR": str(local.cache_dir),
        **{f"CLICKSTREAM_LOCAL__{name.upper()}": str(port) for name, port in ports.items()},
    }
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "clickstream", "local", "up", "--topology", "single"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    started = None
    try:
        _read_until_ready(supervisor)
        started = find_stack(local)
        assert started is not None
        pids = {c.name: processes.read_pid(c) for c in started.plan.components}
        assert all(pids.values()) and {"api", "etl", "kafka-1", "clickhouse-1"} <= set(pids)
        assert supervisor.stdout is not None
        supervisor.stdout.close()  # the reader dies, as tee does on Ctrl-C

        supervisor.send_signal(stop_signal)
        returncode = supervisor.wait(timeout=STOP_TIMEOUT_S)

        left = {name: pid for name, pid in pids.items() if pid and _alive(pid)}
        assert left == {}, f"still running after {stop_signal.name}: {left}"
        assert returncode == 0
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        with contextlib.suppress(Exception):
            found = started or find_stack(local)
            if found is not None:
                found.down()
