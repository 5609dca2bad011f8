"""The API as production runs it: `python -m clickstream api`, watched from outside.

Gunicorn's master and its uvicorn workers are found through /proc, so the
suite can tell whether a worker died (gunicorn would quietly start a new one
with a new pid) and how much memory the whole group holds at its peak.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from clickstream_local.processes import rss_bytes

# The API under test: production settings except a 2 s body read deadline
# (10 s by default), so the slow-client tests finish quickly.
API_PORT = 28000
WORKERS = 2
BODY_READ_TIMEOUT_S = 2.0
MAX_BODY_BYTES = 1024 * 1024
KEEPALIVE_S = 5

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
RSS_SAMPLE_INTERVAL_S = 0.2


@dataclass(frozen=True)
class ApiConfig:
    port: int
    bootstrap_servers: str
    topic: str
    workers: int
    body_read_timeout_s: float
    max_body_bytes: int
    keepalive_s: int

    def environment(self) -> dict[str, str]:
        # The caller's own CLICKSTREAM_* settings must not leak into the process
        # under test: every value it runs with is named here.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("CLICKSTREAM_")}
        return {
            **inherited,
            "CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "CLICKSTREAM_KAFKA__TOPIC": self.topic,
            "CLICKSTREAM_API__HOST": "127.0.0.1",
            "CLICKSTREAM_API__PORT": str(self.port),
            "CLICKSTREAM_API__WORKERS": str(self.workers),
            "CLICKSTREAM_API__BODY_READ_TIMEOUT_S": str(self.body_read_timeout_s),
            "CLICKSTREAM_API__MAX_BODY_BYTES": str(self.max_body_bytes),
            "CLICKSTREAM_API__KEEPALIVE_S": str(self.keepalive_s),
            "CLICKSTREAM_LOG_FORMAT": "json",
            "OTEL_TRACES_EXPORTER": "none",
        }


def children(pid: int) -> set[int]:
    """Direct children of `pid`, whichever of its threads forked them."""
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _is_clickstream(pid: int) -> bool:
    try:
        return b"clickstream" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class ApiProcess:
    """One gunicorn master with its workers, started and stopped by pid."""

    def __init__(self, config: ApiConfig, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.base_url = f"http://127.0.0.1:{config.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self.initial_workers: frozenset[int] = frozenset()
        self.initial_rss_bytes = 0
        self.peak_rss_bytes = 0
        self._sampling = threading.Event()
        self._sampler: threading.Thread | None = None

    @property
    def master_pid(self) -> int:
        assert self._process is not None, "the API is not running"
        return self._process.pid

    def workers(self) -> frozenset[int]:
        return frozenset(children(self.master_pid))

    def total_rss_bytes(self) -> int:
        master = self.master_pid
        return rss_bytes(master) + sum(rss_bytes(pid) for pid in children(master))

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "clickstream", "api"],
                env=self.config.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        self.initial_workers = self.workers()
        self.initial_rss_bytes = self.peak_rss_bytes = self.total_rss_bytes()
        self._sampler = threading.Thread(target=self._sample_rss, name="rss-sampler", daemon=True)
        self._sampler.start()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"the API exited during start-up:\n{self.log_tail()}")
            # Ready means every worker answers: /readyz on a fresh connection
            # lands on whichever worker accepts it, so ask until all have.
            if self._ready() and len(self.workers()) == self.config.workers:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the API was not ready in {READY_TIMEOUT_S:.0f}s:\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def _ready(self) -> bool:
        answers = []
        for _ in range(2 * self.config.workers):
            try:
                with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=2) as response:
                    answers.append(response.status == 200)
            except (urllib.error.URLError, OSError):
                answers.append(False)
        return all(answers)

    def _sample_rss(self) -> None:
        while not self._sampling.wait(RSS_SAMPLE_INTERVAL_S):
            self.peak_rss_bytes = max(self.peak_rss_bytes, self.total_rss_bytes())

    def stop(self) -> None:
        self._sampling.set()
        if self._sampler is not None:
            self._sampler.join()
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        workers = children(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # Gunicorn stops its own workers; one left over after the master's
        # death would be an orphan of ours.
        for pid in workers:
            if _is_clickstream(pid):
                os.kill(pid, signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
