"""The faults: each one says what it breaks, for how long, and what it expects."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field

from tests.chaos import brokers
from tests.chaos.consumers import EtlProcess
from tests.chaos.load import percentile
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
        db, nodes = run.database, run.stack.plan.clickhouse_nodes
        before = await run.clickhouse.local_ids(db)
        rows = await run.clickhouse.shard_rows(db)
        for node in nodes:
            await run.clickhouse.query(
                node, f"CREATE TABLE {db}.hold (event_id UUID) ENGINE = Null"
            )
            await run.clickhouse.query(
                node,
                f"CREATE MATERIALIZED VIEW {db}.hold_mv TO {db}.hold "
                f"AS SELECT event_id FROM {db}.events_local WHERE sleep({HOLD_INSERT_S}) = 0",
            )
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(NEXT_INSERT_TIMEOUT_S):
                    while await run.clickhouse.shard_rows(db) <= rows:  # noqa: ASYNC110 (polling ClickHouse)
                        await asyncio.sleep(0.01)
                    victim.kill()
        finally:
            for node in nodes:
                await run.clickhouse.query(node, f"DROP TABLE {db}.hold_mv")
                await run.clickhouse.query(node, f"DROP TABLE {db}.hold")
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


SCENARIOS: tuple[type[Scenario], ...] = (
    ClickHouseDown,
    EtlKill,
    KafkaLeaderDown,
    KafkaTwoDown,
    KafkaDown,
    ZooKeeperDown,
    ReplicaDown,
    EtlScaleOut,
)
