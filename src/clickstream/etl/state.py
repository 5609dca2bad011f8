"""Where the ETL is in its life, and when its retry loops must give up.

One place instead of scattered flags: the phase (connecting, consuming,
stopping), whether ClickHouse answered last time, when the loop last made
progress (liveness), and the two stop signals the retry loops obey.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

from clickstream.backoff import StopSignal
from clickstream.etl.metrics import EtlMetrics

log = logging.getLogger(__name__)

# A SIGTERM leaves this long for the batches in hand to be written and committed.
SHUTDOWN_FLUSH_TIMEOUT_S = 20.0
LIVENESS_STALL_S = 120.0


class Phase(enum.Enum):
    CONNECTING = "connecting"
    CONSUMING = "consuming"
    STOPPING = "stopping"


class EtlState:
    def __init__(self, metrics: EtlMetrics, clock: Callable[[], float] = time.monotonic) -> None:
        self.phase = Phase.CONNECTING
        self.clickhouse_ok = False
        self.revoking = False
        self._metrics = metrics
        self._clock = clock
        self.last_progress = clock()
        self._stop_deadline = float("inf")
        # Writes and dead letters: give up at once when a rebalance takes the
        # partitions, or once the shutdown grace period is over.
        self.drain = StopSignal(clock)
        # Connecting to Kafka: nothing is in hand yet, so a SIGTERM ends it at once.
        self.stop = StopSignal(clock)

    def consuming(self) -> None:
        if self.phase is Phase.CONNECTING:
            self.phase = Phase.CONSUMING

    def request_stop(self) -> None:
        if self.phase is Phase.STOPPING:
            return
        log.info("stopping: finishing the current batch")
        self.phase = Phase.STOPPING
        self._stop_deadline = self._clock() + SHUTDOWN_FLUSH_TIMEOUT_S
        self.stop.set()
        self.drain.set(grace_s=SHUTDOWN_FLUSH_TIMEOUT_S)

    @property
    def stopping(self) -> bool:
        return self.phase is Phase.STOPPING

    def begin_revoke(self) -> None:
        """A write stuck in an outage gives up at its next retry, now."""
        self.revoking = True
        self.drain.set()

    def end_revoke(self) -> None:
        self.revoking = False
        self.drain.reset(self._stop_deadline)

    def progressed(self) -> None:
        self.last_progress = self._clock()

    @property
    def live(self) -> bool:
        return self._clock() - self.last_progress < LIVENESS_STALL_S

    def clickhouse(self, ok: bool) -> None:
        if ok and not self.clickhouse_ok:
            log.info("clickhouse available")
        self.clickhouse_ok = ok
        self._metrics.clickhouse_up.set(1 if ok else 0)
