"""Resident memory of processes, read from /proc, and a sampler that keeps the peaks."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType


def rss_bytes(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def children(pid: int) -> list[int]:
    """Direct children (gunicorn's workers of its master)."""
    with contextlib.suppress(OSError, ValueError):
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def cpu_times_s(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) since the process began."""
    with contextlib.suppress(OSError, ValueError):
        ran, waited, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
        return int(ran) / 1e9, int(waited) / 1e9
    return 0.0, 0.0


def cpu_pressure_s() -> float:
    """Seconds (since boot) in which some runnable task waited for a CPU (PSI); 0 if unknown."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        return int(some.rsplit("total=", 1)[1]) / 1e6
    return 0.0


class PeakRss:
    """Samples watched processes every `interval_s` in a thread; keeps each one's peak.

    A watched process is found again at every sample through `locate` (a pid
    file may name a restarted process); with `workers`, its children are
    sampled one by one too, labelled `<label> worker <n>` in order of pid.
    """

    def __init__(self, interval_s: float = 0.25) -> None:
        self._interval_s = interval_s
        self._watched: dict[str, tuple[Callable[[], int | None], bool]] = {}
        self._peaks: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peak-rss", daemon=True)

    def watch(self, label: str, locate: Callable[[], int | None], *, workers: bool = False) -> None:
        with self._lock:
            self._watched[label] = (locate, workers)

    def unwatch(self, label: str) -> None:
        """Stop sampling it (its peak stays)."""
        with self._lock:
            self._watched.pop(label, None)

    def sample(self) -> dict[str, int]:
        """Current RSS of every watched process (and worker), in bytes."""
        with self._lock:
            watched = list(self._watched.items())
        now: dict[str, int] = {}
        for label, (locate, workers) in watched:
            pid = locate()
            if pid is None:
                continue
            now[label if not workers else f"{label} master"] = rss_bytes(pid)
            if workers:
                for n, child in enumerate(sorted(children(pid)), start=1):
                    now[f"{label} worker {n}"] = rss_bytes(child)
        with self._lock:
            for label, value in now.items():
                self._peaks[label] = max(value, self._peaks.get(label, 0))
        return now

    @property
    def peaks(self) -> dict[str, int]:
        with self._lock:
            return dict(self._peaks)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample()

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
