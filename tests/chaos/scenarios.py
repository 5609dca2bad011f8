"""The faults: each one says what it breaks, for how long, and what it expects."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.chaos import brokers
from tests.chaos.consumers import EtlProcess
from tests.chaos.disk import SmallDisk
from tests.chaos.freeze import freeze, thaw
from tests.chaos.inflight import HeldRequest, holder
from tests.chaos.load import Attempt, EventFactory, Ledger, percentile
from tests.chaos.memory import children, rss_bytes
from tests.chaos.scenario import Run, Scenario

# After Kafka comes back, valid requests must be acknowledged again within
# this, without restarting the API. Usually 2-3 s; after a full cluster
# restart on a loaded 2-core machine it was seen at 12 s (the producer is
# re-created at most every 10 s when it stays stuck, aiokafka issue 1017).
KAFKA_RECOVERY_S = 30.0
# With Kafka gone, once the API noticed, a 503 must come this fast (p99).
# p99 1.3 s was seen under CI load (the whole cluster restarting on 2 cores);
# still far below the 5 s produce deadline a 503 would otherwise wait for.
FAST_503_S = 2.0
# Requests in flight when Kafka died wait out the API's 5 s deadline, and its
# probe (every 1 s) notices meanwhile; after that, 503s must be fast.
NOTICE_S = 6.0
API_GROWTH_LIMIT_MB = 100.0
# How long an insert is held after its rows are stored (ClickHouse caps sleep at 3 s),
# and how long to wait for the ETL's next insert.
HOLD_INSERT_S = 2
NEXT_INSERT_TIMEOUT_S = 10.0


def _all_acknowledged(run: Run) -> None:
    refused = [a for a in run.ledger.attempts if a.valid and a.outcome != "acknowledged"]
    run.require(
        not refused,
        f"{len(refused)} valid requests not acknowledged: {run.ledger.answers(refused)}",
    )


def _answered_in_time(run: Run, attempts: list[Attempt], what: str) -> None:
    """Every one of `attempts` answered within the produce deadline plus the margin."""
    slowest = max((a.latency_s for a in attempts), default=0.0)
    late = sorted((a for a in attempts if a.latency_s > run.deadline_s), key=lambda a: a.started)
    run.note(f"slowest {what}: {slowest:.2f}s ({len(attempts)} answers)")
    run.require(
        not late,
        f"{len(late)} {what} later than {run.deadline_s:.1f}s (the produce deadline plus "
        f"{run.deadline_s - run.settings.api.produce_timeout_s:.1f}s): "
        + ", ".join(
            f"{a.answer} after {a.latency_s:.1f}s (sent at +{a.started - run.marks['load']:.1f}s)"
            for a in late[:5]
        ),
    )


def _acknowledged_again(run: Run) -> None:
    after = run.recovered_after_s("recovered")
    run.note(f"acknowledging again {after:.1f}s after recovery")
    run.require(
        after <= KAFKA_RECOVERY_S,
        f"valid requests still refused {after:.1f}s after Kafka recovered "
        f"(limit {KAFKA_RECOVERY_S:.0f}s)",
    )


async def _hold(run: Run, seconds: float) -> None:
    run.mark("fault")
    await asyncio.sleep(seconds)
    run.mark("recovering")


async def _most_leading_brokers(run: Run, count: int) -> list[str]:
    led = await brokers.leaders(run.bootstrap, run.topic)
    chosen = [node for node, _ in led.most_common()][:count]
    for node in range(1, 4):  # fewer leaders than `count`: add any other broker
        if len(chosen) < count and node not in chosen:
            chosen.append(node)
    run.note(f"partition leaders by broker: {dict(sorted(led.items()))}")
    return [f"kafka-{node}" for node in chosen]


@contextlib.asynccontextmanager
async def _slow_inserts(run: Run) -> AsyncIterator[None]:
    """Every insert held HOLD_INSERT_S after its rows are stored, until the block ends.

    Each node gets a materialized view on `events_local` whose select sleeps:
    a shard stores the rows, then runs the view, so they are visible while the
    ETL's insert still waits for its answer. (A view on the door table
    `events_ingest` would not do: the Distributed insert sends the rows to
    the shards only once the whole insert pipeline has run.)
    """
    db, nodes = run.database, run.stack.plan.clickhouse_nodes
    for node in nodes:
        await run.clickhouse.query(node, f"CREATE TABLE {db}.hold (event_id UUID) ENGINE = Null")
        await run.clickhouse.query(
            node,
            f"CREATE MATERIALIZED VIEW {db}.hold_mv TO {db}.hold "
            f"AS SELECT event_id FROM {db}.events_local WHERE sleep({HOLD_INSERT_S}) = 0",
        )
    try:
        yield
    finally:
        for node in nodes:
            # Right after a freeze a node may keep the DROP waiting past the
            # harness's query timeout; the clean-up drops the database anyway,
            # and meanwhile an insert takes 2 x HOLD_INSERT_S, within its timeout.
            try:
                await run.clickhouse.query(node, f"DROP TABLE {db}.hold_mv")
                await run.clickhouse.query(node, f"DROP TABLE {db}.hold")
            except (httpx.HTTPError, RuntimeError) as error:
                run.note(f"slow view on clickhouse port {node.port} left in place: {error!r}")


async def _insert_stored(run: Run) -> bool:
    """Wait (inside `_slow_inserts`) until an insert stored rows, so is still waiting; False if none came."""
    rows = await run.clickhouse.shard_rows(run.database)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(NEXT_INSERT_TIMEOUT_S):
            while await run.clickhouse.shard_rows(run.database) <= rows:  # noqa: ASYNC110 (polling ClickHouse)
                await asyncio.sleep(0.01)
            return True
    return False


class ClickHouseDown(Scenario):
    name = "clickhouse-down"
    summary = "all four ClickHouse nodes SIGKILLed, then restarted"
    long_fault = True

    async def fault(self, run: Run) -> None:
        await run.stop("clickhouse")
        await _hold(run, self.fault_s(run.profile))
        await run.start("clickhouse")

    def expect(self, run: Run) -> None:
        _all_acknowledged(run)


@dataclass
class _KillEvidence:
    """What ClickHouse held and Kafka had committed right after one insert-timed kill."""

    new_ids: set[str]
    committed: dict[int, int]


class EtlKill(Scenario):
    name = "etl-kill"
    summary = "kill -9 the ETL repeatedly; every other kill between its insert and its commit"
    long_fault = True
    # Restarted ETL waits for the group to drop the dead member (session 10 s).
    restart_after_s = 1.0
    run_between_s = 6.0

    def __init__(self) -> None:
        self.kills = 0
        self.evidence: list[_KillEvidence] = []

    async def fault(self, run: Run) -> None:
        run.mark("fault")
        deadline = time.monotonic() + self.fault_s(run.profile)
        while time.monotonic() < deadline:
            victim = run.etls.running[0]
            if self.kills % 2 == 0:
                await self._kill_on_insert(run, victim)
            else:
                await asyncio.sleep(random.uniform(0.5, 3.0))
                victim.kill()
            self.kills += 1
            await asyncio.sleep(self.restart_after_s)
            run.etls.start()
            await asyncio.sleep(self.run_between_s)
        run.mark("recovering")

    async def _kill_on_insert(self, run: Run, victim: EtlProcess) -> None:
        """SIGKILL the ETL after its insert stored rows and before the insert returned.

        The ETL commits only after its insert returns. For a moment every node
        gets a slow materialized view on `events_local`: a shard stores the
        rows, then runs the view, so they are visible while the ETL's insert
        still waits. The ETL is killed as soon as new rows show; then the views
        are dropped. Whether the kill really fell between insert and commit is
        checked afterwards from the committed offsets (see `expect`).
        """
        db = run.database
        before = await run.clickhouse.local_ids(db)
        async with _slow_inserts(run):
            if await _insert_stored(run):
                victim.kill()
        if victim.alive:  # no insert came: an ordinary kill, no evidence
            victim.kill()
            return
        committed = await brokers.committed(run.bootstrap, run.settings.etl.group_id)
        new_ids = await run.clickhouse.local_ids(db) - before
        self.evidence.append(_KillEvidence(new_ids, committed))

    def expect(self, run: Run) -> None:
        _all_acknowledged(run)
        # A kill landed between insert and commit when rows it had just stored
        # sit at or past the offset the group had committed.
        uncommitted = [
            sum(
                1
                for event_id in kill.new_ids
                for place in run.kafka.get(event_id, ())
                if place.offset >= kill.committed.get(place.partition, 0)
            )
            for kill in self.evidence
        ]
        between = sum(1 for rows in uncommitted if rows)
        run.note(
            f"kills: {self.kills}, insert-timed: {len(self.evidence)}, landed between insert "
            f"and commit: {between} (stored-but-uncommitted rows per kill: {uncommitted})"
        )
        run.require(between > 0, "no kill landed between an insert and its commit")


class KafkaLeaderDown(Scenario):
    name = "kafka-leader-down"
    summary = "SIGKILL the broker leading most partitions, restart it"

    async def fault(self, run: Run) -> None:
        (leader,) = await _most_leading_brokers(run, 1)
        run.note(f"killed {leader}")
        await run.stop(leader)
        await _hold(run, self.fault_s(run.profile))
        await run.start(leader)
        await brokers.wait_for_leaders(run.bootstrap, run.topic)

    def expect(self, run: Run) -> None:
        during = run.valid_between("fault", "recovering")
        slowest = max((a.latency_s for a in during), default=0.0)
        run.note(f"slowest answer during the fault: {slowest:.2f}s")
        _acknowledged_again(run)


class KafkaTwoDown(Scenario):
    name = "kafka-two-down"
    summary = "SIGKILL two of three brokers: below min.insync.replicas, then restart"

    async def fault(self, run: Run) -> None:
        victims = await _most_leading_brokers(run, 2)
        run.note(f"killed {', '.join(victims)}")
        for victim in victims:
            await run.stop(victim)
        await _hold(run, self.fault_s(run.profile))
        for victim in victims:
            await run.start(victim)
        await brokers.wait_for_leaders(run.bootstrap, run.topic)

    def expect(self, run: Run) -> None:
        during = run.valid_between("fault", "recovering")
        acknowledged = [a for a in during if a.outcome == "acknowledged"]
        run.require(
            not acknowledged,
            f"{len(acknowledged)} requests acknowledged below min.insync.replicas",
        )
        run.require(bool(during), "no requests were sent during the fault")
        _acknowledged_again(run)


@dataclass
class _ApiWatch:
    readyz: list[int] = field(default_factory=list)
    healthz: list[int] = field(default_factory=list)
    baseline_mb: float = 0.0
    peak_mb: float = 0.0
    pids_before: set[int] = field(default_factory=set)
    pids_after: set[int] = field(default_factory=set)


class KafkaDown(Scenario):
    name = "kafka-down"
    summary = "SIGKILL all three brokers, restart them"
    probe_every_s = 0.5

    def __init__(self) -> None:
        self.watch = _ApiWatch()

    def _api_pids(self, run: Run) -> set[int]:
        master = run.api_pid()
        return {master, *children(master)} if master else set()

    def _api_mb(self, run: Run) -> float:
        return sum(rss_bytes(pid) for pid in self._api_pids(run)) / 2**20

    async def _probe(self, run: Run, path: str) -> int:
        response = await run.http.get(f"{run.api_url}{path}", headers={"Connection": "close"})
        return response.status_code

    async def fault(self, run: Run) -> None:
        watch = self.watch
        watch.pids_before = self._api_pids(run)
        watch.baseline_mb = self._api_mb(run)
        await run.stop("kafka")
        run.mark("fault")
        deadline = time.monotonic() + self.fault_s(run.profile)
        while time.monotonic() < deadline:
            await asyncio.sleep(self.probe_every_s)
            watch.peak_mb = max(watch.peak_mb, self._api_mb(run))
            if time.monotonic() - run.marks["fault"] >= NOTICE_S:
                watch.readyz.append(await self._probe(run, "/readyz"))
                watch.healthz.append(await self._probe(run, "/healthz"))
        run.mark("recovering")
        await run.start("kafka")
        await brokers.wait_for_leaders(run.bootstrap, run.topic)
        watch.pids_after = self._api_pids(run)

    def expect(self, run: Run) -> None:
        watch = self.watch
        noticed = run.marks["fault"] + NOTICE_S
        refused = [
            a
            for a in run.ledger.between(noticed, run.marks["recovering"])
            if a.valid and a.status == 503
        ]
        p50 = percentile([a.latency_s for a in refused], 0.5)
        p99 = percentile([a.latency_s for a in refused], 0.99)
        growth = watch.peak_mb - watch.baseline_mb
        run.note(
            f"503 latency p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms ({len(refused)} "
            f"requests); API RSS {watch.baseline_mb:.0f} MB before, peak {watch.peak_mb:.0f} MB"
        )
        run.require(bool(refused), "no 503s while Kafka was down")
        _answered_in_time(run, [a for a in run.ledger.attempts if a.status == 503], "503s")
        run.require(p99 <= FAST_503_S, f"503s not fast: p99 {p99:.2f}s > {FAST_503_S}s")
        run.require(
            growth <= API_GROWTH_LIMIT_MB,
            f"API memory grew by {growth:.0f} MB (limit {API_GROWTH_LIMIT_MB:.0f})",
        )
        run.require(
            bool(watch.readyz) and set(watch.readyz) == {503},
            f"/readyz answered {sorted(set(watch.readyz))}, expected only 503",
        )
        run.require(
            bool(watch.healthz) and set(watch.healthz) == {200},
            f"/healthz answered {sorted(set(watch.healthz))}, expected only 200",
        )
        run.require(
            watch.pids_before == watch.pids_after,
            f"API processes changed: {sorted(watch.pids_before)} -> {sorted(watch.pids_after)}",
        )
        _acknowledged_again(run)


class ZooKeeperDown(Scenario):
    name = "zookeeper-down"
    summary = "SIGKILL ZooKeeper (replicated inserts refused), restart it"

    def __init__(self) -> None:
        self.loaded_during = 0

    async def fault(self, run: Run) -> None:
        await run.stop("zookeeper")
        rows = await run.clickhouse.shard_rows(run.database)
        await _hold(run, self.fault_s(run.profile))
        self.loaded_during = await run.clickhouse.shard_rows(run.database) - rows
        await run.start("zookeeper")

    def expect(self, run: Run) -> None:
        run.note(f"rows loaded while ZooKeeper was down: {self.loaded_during}")
        _all_acknowledged(run)


class ReplicaDown(Scenario):
    name = "replica-down"
    summary = "SIGKILL one replica of each shard (clickhouse-1, the ETL's first host, and -4)"
    victims = ("clickhouse-1", "clickhouse-4")

    def __init__(self) -> None:
        self.loaded_during = 0

    async def fault(self, run: Run) -> None:
        for victim in self.victims:
            await run.stop(victim)
        rows = await run.clickhouse.shard_rows(run.database)
        await _hold(run, self.fault_s(run.profile))
        self.loaded_during = await run.clickhouse.shard_rows(run.database) - rows
        for victim in self.victims:
            await run.start(victim)

    def expect(self, run: Run) -> None:
        run.note(f"rows loaded through the other replicas: {self.loaded_during}")
        run.require(self.loaded_during > 0, "nothing loaded while one replica per shard was down")
        _all_acknowledged(run)


class EtlScaleOut(Scenario):
    name = "etl-scale-out"
    summary = "ETL processes 1 -> 2 -> 3 -> 5 on 4 partitions, then back to 1 (SIGTERM)"
    partitions = 4
    steps = (2, 3, 5)

    async def fault(self, run: Run) -> None:
        run.mark("fault")
        step_s = self.fault_s(run.profile) / len(self.steps)
        for count in self.steps:
            run.etls.scale_to(count)
            await asyncio.sleep(step_s)
        run.mark("recovering")
        await asyncio.to_thread(run.etls.scale_to, 1)

    def expect(self, run: Run) -> None:
        run.note(f"ETL processes started: {len(run.etls.processes)}")
        _all_acknowledged(run)


# The API's restarts: requests held in flight per signal, how long they are
# held after it (the shutdown is under way by then), and how long a master
# may take to drain and exit (gunicorn's graceful timeout, 20 s, and slack).
HELD_PER_SIGNAL = 6
HELD_AFTER_SIGNAL_S = 1.0
HELD_ACCEPT_TIMEOUT_S = 0.5
# The API gives a body 10 s (body_read_timeout_s): stop holding more well before.
HOLDING_AT_MOST_S = 4.0
API_EXIT_TIMEOUT_S = 30.0


@dataclass
class _Restart:
    """One SIGTERM: whom it hit, and the requests that were in flight on it."""

    target: str
    held: list[Attempt]
    # Seconds spent holding requests, from the signal until the process was
    # gone (or replaced), and until the API was ready again.
    hold_s: float
    drain_s: float
    ready_s: float
    probes: dict[str, int]


def _wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _ended(pid: int) -> bool:
    """Whether process `pid` has ended; collects it if it is our child (no zombie left)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


class ApiRollingRestart(Scenario):
    name = "api-rolling-restart"
    summary = "SIGTERM the API master twice (started again), then one worker twice (respawned)"
    signals_each = 2

    def __init__(self) -> None:
        self.restarts: list[_Restart] = []
        self._events = EventFactory("chaos-held")

    async def fault(self, run: Run) -> None:
        run.mark("fault")
        pause_s = self.fault_s(run.profile) / (2 * self.signals_each)
        for _ in range(self.signals_each):
            await self._restart_master(run)
            await asyncio.sleep(pause_s)
        for _ in range(self.signals_each):
            await self._restart_worker(run)
            await asyncio.sleep(pause_s)
        run.mark("recovering")

    async def _restart_master(self, run: Run) -> None:
        master = run.api_pid()
        assert master is not None, "the API is not running"
        began = time.monotonic()
        held = await self._hold(run, master, children(master))
        signalled = time.monotonic()
        os.kill(master, signal.SIGTERM)
        answers = await self._release(run, held)
        # Our own child (the runner started it): reaped here, or it lingers as a zombie.
        gone = await asyncio.to_thread(_wait_until, lambda: _ended(master), API_EXIT_TIMEOUT_S)
        drained = time.monotonic() - signalled
        run.require(gone, f"API master {master} still running after SIGTERM")
        probes = await run.start_api()
        ready = time.monotonic()
        run.gaps.append((signalled, ready))
        self.restarts.append(
            _Restart("master", answers, signalled - began, drained, ready - signalled, probes)
        )

    async def _restart_worker(self, run: Run) -> None:
        master = run.api_pid()
        assert master is not None, "the API is not running"
        workers = children(master)
        victim = workers[0]
        began = time.monotonic()
        held = await self._hold(run, master, [victim])
        signalled = time.monotonic()
        os.kill(victim, signal.SIGTERM)
        answers = await self._release(run, held)
        replaced = await asyncio.to_thread(
            _wait_until,
            lambda: victim not in children(master) and len(children(master)) == len(workers),
            API_EXIT_TIMEOUT_S,
        )
        run.require(replaced, f"worker {victim} not replaced after SIGTERM")
        drained = time.monotonic() - signalled
        # The other worker answers meanwhile; the new one opens its producer first.
        probes = await run.wait_api_ready()
        ready = time.monotonic()
        run.gaps.append((signalled, ready))
        self.restarts.append(
            _Restart(
                f"worker {victim}", answers, signalled - began, drained, ready - signalled, probes
            )
        )

    async def _hold(self, run: Run, master: int, targets: list[int]) -> list[HeldRequest]:
        """HELD_PER_SIGNAL requests half sent and accepted by one of `targets` (worker pids)."""
        port = run.stack.plan.get("api").ports["http"]
        held: list[HeldRequest] = []
        others: list[HeldRequest] = []
        began = time.monotonic()
        for _ in range(8 * HELD_PER_SIGNAL):
            if len(held) == HELD_PER_SIGNAL or time.monotonic() - began > HOLDING_AT_MOST_S:
                break
            request = HeldRequest(self._events)
            await request.begin("127.0.0.1", port)
            owner = None
            deadline = time.monotonic() + HELD_ACCEPT_TIMEOUT_S
            while owner is None and time.monotonic() < deadline:
                # In a thread: reading /proc/net/tcp takes milliseconds per call
                # under load, time the load generator's own event loop needs.
                owner = await asyncio.to_thread(holder, request.local_port, port, children(master))
                await asyncio.sleep(0.02)
            (held if owner in targets else others).append(request)
        # The ones another worker took are finished at once: ordinary requests.
        run.ledger.attempts.extend(await asyncio.gather(*(r.finish() for r in others)))
        return held

    async def _release(self, run: Run, held: list[HeldRequest]) -> list[Attempt]:
        await asyncio.sleep(HELD_AFTER_SIGNAL_S)
        answers = list(await asyncio.gather(*(r.finish() for r in held)))
        run.ledger.attempts.extend(answers)
        return answers

    def expect(self, run: Run) -> None:
        for restart in self.restarts:
            run.note(
                f"SIGTERM {restart.target}: in flight {Ledger.answers(restart.held)} "
                f"(held for {restart.hold_s:.1f}s), gone after {restart.drain_s:.1f}s, "
                f"ready again after {restart.ready_s:.1f}s (/readyz: {restart.probes})"
            )
            run.require(bool(restart.held), f"SIGTERM {restart.target}: no request in flight on it")
            unfinished = [a for a in restart.held if a.status != 200]
            run.require(
                not unfinished,
                f"SIGTERM {restart.target}: in-flight requests not completed: "
                f"{Ledger.answers(unfinished)}",
            )
        run.require(
            len(self.restarts) == 2 * self.signals_each,
            f"{len(self.restarts)} restarts done of {2 * self.signals_each}",
        )


# The ETL's insert timeout in clickhouse-freeze, lowered from 30 s so that
# even a quick run's freeze (12 s) outlasts it, and above the two shards' slow
# views (HOLD_INSERT_S each): at 4 s every insert timed out until the views
# were gone, and dropping them waited behind those inserts.
FREEZE_INSERT_TIMEOUT_S = 8
# What the ETL's loader logs when an insert gave up waiting for its answer.
INSERT_TIMED_OUT = re.compile(r"clickhouse insert failed.*TimeoutError")


class ClickHouseFreeze(Scenario):
    """Every node frozen while an insert waits for its answer.

    An insert takes milliseconds, so a freeze at a random moment finds the ETL
    between inserts, and its next call meets the frozen nodes while
    connecting (bounded by the connect timeout, not the insert's). The nodes
    are therefore frozen right after an insert stored its rows and while it
    still waits for them (`_slow_inserts`): only the insert's own timeout
    (`send_receive_timeout_s`) can end that wait before the thaw.
    """

    name = "clickhouse-freeze"
    summary = "SIGSTOP every ClickHouse node during an insert, past the ETL's insert timeout"
    etl_env = {"CLICKSTREAM_CLICKHOUSE__SEND_RECEIVE_TIMEOUT_S": str(FREEZE_INSERT_TIMEOUT_S)}

    def __init__(self) -> None:
        self.logged: list[str] = []
        self.during_insert = False

    async def fault(self, run: Run) -> None:
        nodes = run.stack.plan.select("clickhouse")
        async with _slow_inserts(run):
            self.during_insert = await _insert_stored(run)
            logs = run.etls.log_sizes()
            for node in nodes:
                freeze(node)
            try:
                await _hold(run, self.fault_s(run.profile))
                # Read before the thaw: a hung insert fails (if at all) only after it.
                self.logged = run.etls.log_since(logs)
            finally:
                for node in nodes:
                    thaw(node)

    def expect(self, run: Run) -> None:
        timed_out = [line for line in self.logged if INSERT_TIMED_OUT.search(line)]
        run.note(
            f"frozen during an insert: {self.during_insert}; inserts timed out while frozen: "
            f"{len(timed_out)} (insert timeout {FREEZE_INSERT_TIMEOUT_S}s, frozen "
            f"{run.marks['recovering'] - run.marks['fault']:.0f}s)"
        )
        run.require(self.during_insert, "no insert was under way to freeze")
        run.require(
            bool(timed_out),
            "the ETL's insert did not time out while every node was frozen (a hang?)",
        )
        _all_acknowledged(run)


class BrokerFreeze(Scenario):
    name = "broker-freeze"
    summary = "SIGSTOP the broker leading most partitions, then SIGCONT"

    async def fault(self, run: Run) -> None:
        (leader,) = await _most_leading_brokers(run, 1)
        run.note(f"froze {leader}")
        broker = run.stack.plan.get(leader)
        freeze(broker)
        try:
            await _hold(run, self.fault_s(run.profile))
        finally:
            thaw(broker)
        await brokers.wait_for_leaders(run.bootstrap, run.topic)

    def expect(self, run: Run) -> None:
        valid = [a for a in run.ledger.attempts if a.valid]
        other = [a for a in valid if a.status not in (200, 503)]
        run.require(
            not other, f"valid requests answered other than 200/503: {Ledger.answers(other)}"
        )
        _answered_in_time(run, run.ledger.attempts, "answers")
        _acknowledged_again(run)


# clickhouse-disk-full: the node whose disk fills is the ETL's first host, so
# every insert passes through it and writes its shard's rows there first
# (prefer_localhost_replica); its sibling replica is untouched.
FULL_NODE_NUMBER = 1
FULL_NODE = f"clickhouse-{FULL_NODE_NUMBER}"
FULL_HEADROOM_BYTES = 64 * 1024 * 1024
FULL_SEEN_TIMEOUT_S = 30.0
# The loader logs this when an insert went through, or when it decided the
# rows were at fault and splits the block (refusals.give_up_on_block): while
# the disk is full and no row lands on the node, only the latter.
AVAILABLE = '"clickhouse available"'
NO_SPACE = re.compile(r"No space left|not enough space|Cannot reserve|errno: 28", re.IGNORECASE)


class ClickHouseDiskFull(Scenario):
    name = "clickhouse-disk-full"
    summary = f"{FULL_NODE}'s data on a small tmpfs, filled until inserts fail, then freed"

    def __init__(self) -> None:
        self.disk: SmallDisk | None = None
        self.failures: list[str] = []
        self.loaded_while_full = 0
        self.blamed_rows = 0

    async def prepare(self, run: Run) -> None:
        self.disk = SmallDisk(run.stack.plan.get(FULL_NODE), FULL_HEADROOM_BYTES)
        await run.stop(FULL_NODE, kill=False)
        size = await asyncio.to_thread(self.disk.mount)
        await run.start(FULL_NODE)
        run.note(f"{FULL_NODE}'s data directory on a tmpfs of {size / 2**20:.0f} MiB")

    async def fault(self, run: Run) -> None:
        assert self.disk is not None
        logs = run.etls.log_sizes()
        filled = await asyncio.to_thread(self.disk.fill)
        run.mark("fault")
        run.note(f"filled with {filled / 2**20:.1f} MiB")
        deadline = time.monotonic() + FULL_SEEN_TIMEOUT_S
        while not self.failures and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            self.failures = [line for line in run.etls.log_since(logs) if NO_SPACE.search(line)]
        run.mark("full")
        node = run.stack.plan.clickhouse_nodes[FULL_NODE_NUMBER - 1]
        rows = await run.clickhouse.node_rows(run.database, node)
        full = run.etls.log_sizes()
        await asyncio.sleep(self.fault_s(run.profile))
        self.loaded_while_full = await run.clickhouse.node_rows(run.database, node) - rows
        self.blamed_rows = sum(1 for line in run.etls.log_since(full) if AVAILABLE in line)
        self.disk.free()
        run.mark("recovering")

    def expect(self, run: Run) -> None:
        run.note(
            f"ETL log lines about the full disk: {len(self.failures)}; rows {FULL_NODE} took "
            f"while full: {self.loaded_while_full}"
        )
        run.require(bool(self.failures), f"no insert failed for want of space on {FULL_NODE}")
        run.require(
            self.loaded_while_full == 0,
            f"{FULL_NODE} took {self.loaded_while_full} rows while full",
        )
        run.require(
            self.blamed_rows == 0,
            f"the ETL took the full disk for its rows' fault {self.blamed_rows} times "
            "(ClickHouse 'available' while full: it split the block to dead-letter rows)",
        )
        _all_acknowledged(run)

    async def restore(self, run: Run) -> None:
        if self.disk is None:
            return
        await run.stop(FULL_NODE, kill=False)
        await asyncio.to_thread(self.disk.unmount)
        await run.start(FULL_NODE)


SCENARIOS: tuple[type[Scenario], ...] = (
    ClickHouseDown,
    EtlKill,
    KafkaLeaderDown,
    KafkaTwoDown,
    KafkaDown,
    ZooKeeperDown,
    ReplicaDown,
    EtlScaleOut,
    ApiRollingRestart,
    ClickHouseFreeze,
    BrokerFreeze,
    ClickHouseDiskFull,
)
