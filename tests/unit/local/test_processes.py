"""A component started at a lower priority yields the cores, whatever session it is in."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from clickstream_local import processes
from clickstream_local.components import Component, plan
from clickstream_local.priorities import API_NICE, CLICKHOUSE_NICE
from clickstream_local.settings import LocalSettings

AUTOGROUP = Path("/proc/self/autogroup")


def _started(component: Component) -> int:
    """The pid of `component` once it runs its own program (set up, exec'd)."""
    pid = processes.start(component)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] != b"sleep":
        assert time.monotonic() < deadline, "the component did not exec"
        time.sleep(0.01)
    return pid


def _nice_of(pid: int) -> int:
    # Field 19 of /proc/PID/stat, the 17th after the command name.
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_a_niced_component_yields_in_its_own_session_too(tmp_path: Path) -> None:
    sleeper = Component("sleeper", "api", {}, tmp_path, argv=["sleep", "60"], nice=7)

    pid = _started(sleeper)
    try:
        assert os.getsid(pid) == pid, "each component runs in a session of its own"
        assert _nice_of(pid) == _nice_of(os.getpid()) + 7
        if AUTOGROUP.exists():
            # Between sessions the kernel shares the cores by the session's
            # (autogroup's) nice value: the process' own would change nothing.
            assert Path(f"/proc/{pid}/autogroup").read_text().split()[-1] == "7"
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_a_component_at_the_default_priority_keeps_it(tmp_path: Path) -> None:
    sleeper = Component("sleeper", "api", {}, tmp_path, argv=["sleep", "60"])

    pid = _started(sleeper)
    try:
        assert _nice_of(pid) == _nice_of(os.getpid())
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


@pytest.mark.parametrize("topology", ["single", "cluster"])
def test_clickhouse_yields_to_the_api_and_the_brokers(tmp_path: Path, topology: str) -> None:
    local = LocalSettings(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")

    components = plan(local, topology, tmp_path / "kafka-libs").components  # type: ignore[arg-type]

    nices = {c.kind: c.nice for c in components}
    # The API's answer waits for the brokers' acknowledgement; ZooKeeper's
    # sessions expire when it answers late.
    assert nices["etl"] == nices["kafka"] == nices.get("zookeeper", 0) == 0
    assert nices["clickhouse"] == CLICKHOUSE_NICE > 0
    assert nices["api"] == API_NICE < 0


@pytest.mark.skipif(os.geteuid() != 0, reason="a negative nice value needs root")
def test_the_api_goes_first_in_its_own_session_too(tmp_path: Path) -> None:
    sleeper = Component("sleeper", "api", {}, tmp_path, argv=["sleep", "60"], nice=API_NICE)

    pid = _started(sleeper)
    try:
        assert _nice_of(pid) == max(-20, _nice_of(os.getpid()) + API_NICE)
        if AUTOGROUP.exists():
            assert Path(f"/proc/{pid}/autogroup").read_text().split()[-1] == str(API_NICE)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
