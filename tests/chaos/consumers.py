"""ETL processes the scenarios own: `clickstream etl` children started, killed and counted here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from clickstream.config import Settings
from tests.integration.pipeline import etl_env

STOP_TIMEOUT_S = 30.0


class EtlProcess:
    """One `clickstream etl` process; remembers whether its end was ours."""

    argv = (sys.executable, "-m", "clickstream", "etl")

    def __init__(
        self, settings: Settings, log_path: Path, number: int, extra_env: Mapping[str, str]
    ) -> None:
        self.number = number
        self.log_path = log_path
        with log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.argv,
                env={**etl_env(settings), **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.ended_by_us = False

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def died_unexpectedly(self) -> bool:
        return not self.alive and not self.ended_by_us

    def kill(self) -> None:
        """SIGKILL: no flush, no commit, no goodbye to the group."""
        self.ended_by_us = True
        if self.alive:
            os.kill(self._proc.pid, signal.SIGKILL)
        self._proc.wait()

    def terminate(self) -> None:
        """SIGTERM: finish the batch in hand, commit, leave the group."""
        self.ended_by_us = True
        if self.alive:
            self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()


class EtlPool:
    """Every ETL process of one scenario, including the ones that already ended."""

    def __init__(
        self, settings: Settings, log_dir: Path, extra_env: Mapping[str, str] | None = None
    ) -> None:
        self._settings = settings
        self._log_dir = log_dir
        self._extra_env = dict(extra_env or {})
        self.processes: list[EtlProcess] = []

    @property
    def running(self) -> list[EtlProcess]:
        return [p for p in self.processes if p.alive]

    def start(self) -> EtlProcess:
        number = len(self.processes) + 1
        process = EtlProcess(
            self._settings, self._log_dir / f"etl-{number}.log", number, self._extra_env
        )
        self.processes.append(process)
        return process

    def scale_to(self, count: int) -> None:
        while len(self.running) < count:
            self.start()
        for process in self.running[count:]:
            process.terminate()

    def log_sizes(self) -> dict[Path, int]:
        """Where every process' log ends now, for `log_since`."""
        return {p.log_path: p.log_path.stat().st_size for p in self.processes}

    def log_since(self, sizes: dict[Path, int]) -> list[str]:
        """The log lines every process wrote after `sizes` was taken."""
        lines = []
        for process in self.processes:
            with process.log_path.open("rb") as log:
                log.seek(sizes.get(process.log_path, 0))
                lines += log.read().decode(errors="replace").splitlines()
        return lines

    def died_unexpectedly(self) -> list[EtlProcess]:
        return [p for p in self.processes if p.died_unexpectedly]

    def stop_all(self) -> None:
        for process in self.running:
            process.terminate()
