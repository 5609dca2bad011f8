"""Start, stop and inspect the local stack's processes by their pid files.

Each process runs in a session of its own (so a terminal's Ctrl-C reaches only
the supervisor, which then stops them in order) and is known by the pid file
in its work directory, which also records the process' start time: a recycled
pid is never mistaken for ours. (Not the command line: a program that
re-executes itself shows an empty one for a moment.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from clickstream_local.components import Component

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def read_pid(component: Component) -> int | None:
    try:
        pid_text, started = component.pid_file.read_text().split()
        pid = int(pid_text)
    except (FileNotFoundError, ValueError):
        return None
    stat = _stat(pid)
    if stat is None or stat[0] == "Z" or stat[19] != started:
        return None
    return pid


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [0] state, [19] start time."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None


def is_running(component: Component) -> bool:
    return read_pid(component) is not None


def prepare(component: Component) -> None:
    component.workdir.mkdir(parents=True, exist_ok=True)
    component.data_dir.mkdir(parents=True, exist_ok=True)
    for path, content in component.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
    marker = component.workdir / ".initialised"
    if component.init and not marker.exists():
        with component.log_file.open("ab") as log:
            for argv in component.init:
                subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, check=True)
        marker.touch()


def start(component: Component, extra_env: dict[str, str] | None = None) -> int:
    """Start the process unless it already runs; returns its pid."""
    pid = read_pid(component)
    if pid is not None:
        return pid
    prepare(component)
    env = {**os.environ, **component.env, **(extra_env or {})}
    # A stop signal between the fork and the pid file would leave a process
    # that `down` cannot find: it waits until the pid is on disk.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        pid = _spawn(component.argv, component.workdir, env, component.log_file, component.nice)
        stat = _stat(pid)
        component.pid_file.write_text(f"{pid} {stat[19] if stat else 0}")
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return pid


def _spawn(argv: list[str], cwd: Path, env: dict[str, str], log_file: Path, nice: int = 0) -> int:
    """fork + exec into a new session at priority `nice`, output appended to `log_file`.

    Not subprocess.Popen: these processes outlive the Popen object by design,
    and Popen warns about every child still running when it is collected.
    """
    log_fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            # The mask survives exec: unblock what `start` blocked.
            signal.pthread_sigmask(signal.SIG_SETMASK, set())
            os.setsid()
            if nice:
                _set_priority(nice)
            os.chdir(cwd)
            os.dup2(null_fd, 0)
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            os.closerange(3, 4096)
            os.execvpe(argv[0], argv, env)
        except BaseException as error:
            os.write(2, f"cannot start {argv[0]}: {error}\n".encode())
        finally:
            os._exit(127)
    os.close(log_fd)
    os.close(null_fd)
    return pid


def _set_priority(nice: int) -> None:
    """The calling process' nice value, and its session's: the one that counts.

    With the kernel's autogroup scheduling (Debian's default,
    /proc/sys/kernel/sched_autogroup_enabled), the cores are shared fairly
    between sessions first, and a process' own nice value only orders it within
    its session. Every component runs in a session of its own, so each niced
    ClickHouse server's session would still get as much CPU as the API's; the
    session's (autogroup's) nice value is what yields it. A negative value
    needs root; without it the process keeps its priority.
    """
    with contextlib.suppress(PermissionError):
        os.nice(nice)
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as autogroup:
        autogroup.write(str(nice))


def stop(component: Component, *, kill: bool = False, timeout_s: float = 30.0) -> bool:
    """SIGTERM (or SIGKILL) the process group and wait; True if it was running."""
    pid = read_pid(component)
    if pid is None:
        component.pid_file.unlink(missing_ok=True)
        return False
    sig = signal.SIGKILL if kill else signal.SIGTERM
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        while _alive(pid):
            _reap(pid)
            time.sleep(0.05)
    component.pid_file.unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
