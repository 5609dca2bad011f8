"""Freezing a component: SIGSTOP its whole process group, SIGCONT to thaw it.

A frozen process keeps its sockets open and the kernel keeps accepting
connections and buffering bytes for it, but nothing answers: the fault a
refused connection never shows, a peer that hangs. Every component of the
stack runs in a session of its own (clickstream_local/processes.py), so its
process group is the component and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from clickstream_local import processes
from clickstream_local.components import Component


def freeze(component: Component) -> None:
    pid = processes.read_pid(component)
    if pid is None:
        raise RuntimeError(f"{component.name} is not running, nothing to freeze")
    os.killpg(pid, signal.SIGSTOP)


def thaw(component: Component) -> None:
    """SIGCONT; harmless on a process that is not stopped (or gone)."""
    pid = processes.read_pid(component)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGCONT)


def frozen(component: Component) -> bool:
    """Stopped by a signal: state T in /proc (t is a tracer's stop, not ours)."""
    pid = processes.read_pid(component)
    if pid is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state == "T"
