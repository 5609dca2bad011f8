"""The scenario framework: set up, load, fault, recover, drain, check, clean up.

A scenario only says what its fault is (`fault`) and what it expects beyond
the oracle's rules (`expect`). Everything else is the same for all of them:
each gets its own topic, consumer group and database, the stack's API
restarted onto that topic, its own ETL processes, and load at a fixed rate
from before the fault until after recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import httpx

from clickstream.clickhouse.migrations import migrate
from clickstream.config import Settings
from clickstream_local import kafka_topics, processes
from clickstream_local.clickhouse_config import ETL_DATABASE_SUFFIX
from clickstream_local.stack import Stack
from tests.chaos import brokers
from tests.chaos.brokers import Placement
from tests.chaos.cluster import restore_infrastructure
from tests.chaos.consumers import EtlPool
from tests.chaos.load import Attempt, Ledger, LoadGenerator
from tests.chaos.memory import children, cpu_pressure_s, cpu_times_s
from tests.chaos.oracle import Verdict, judge
from tests.chaos.storage import ClickHouseNodes

API_READY_STREAK = 10
# The API's Kafka deadline (5 s) and a second of slack.
LATE_ANSWER_S = 6.0
# What "within the produce deadline" allows on top of it, where a scenario
# holds answers to the deadline: the request's own way through two busy cores.
DEADLINE_MARGIN_S = 1.0
API_READY_TIMEOUT_S = 60.0
# What a client sees of an API that is deliberately down or draining: refused,
# or a connection closed before it was read (an idle keep-alive connection, or
# one still in the listen backlog when the last listener closed). Tolerated,
# as indeterminate, only inside a gap the scenario declared.
GAP_ERRORS = frozenset({"ConnectError", "RemoteProtocolError", "ReadError"})


@dataclass(frozen=True)
class Profile:
    """How hard and how long: the full run, or the quick one for CI."""

    name: str
    rate: float
    warmup_s: float
    fault_s: float
    # The ClickHouse outage and the ETL kills: 60 s in the full suite.
    long_fault_s: float
    after_s: float
    drain_timeout_s: float
    # Whether a request left unanswered past the client's 10 s fails the
    # scenario. The quick run (CI) reports it instead: it is a time limit, on
    # two cores the stack, the API and the load share. Unchanged code missed
    # it once in the last six quick runs of all twelve (kafka-two-down, one
    # request at the brokers' recovery), and kafka-two-down twice more with
    # the API at nice -5 and -15 (4 and 10 requests; a process' nice value did
    # nothing between sessions, see docs/chaos.md); issue 14 is open for it.
    # Lost, duplicated, refused and 5xx answers fail both runs.
    judge_hangs: bool = True


# 200/s: on the 2-core reference machine, whose cores the stack, the API, the
# ETLs and the load generator share, a full run asked for 400/s sent 140-200/s
# (etl-kill: 22,142 requests in 123 s), so 400 only overstated it. `--rate`
# asks for more on more cores.
FULL = Profile(
    "full", rate=200, warmup_s=10, fault_s=30, long_fault_s=60, after_s=20, drain_timeout_s=300
)
QUICK = Profile(
    "quick",
    rate=100,
    warmup_s=5,
    fault_s=12,
    long_fault_s=18,
    after_s=12,
    drain_timeout_s=150,
    judge_hangs=False,
)


@dataclass
class Run:
    """One scenario's world, handed to its `fault` and `expect`."""

    stack: Stack
    profile: Profile
    settings: Settings
    database: str
    clickhouse: ClickHouseNodes
    http: httpx.AsyncClient
    etls: EtlPool
    load: LoadGenerator
    marks: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    kafka: dict[str, list[Placement]] = field(default_factory=dict)
    # Windows (monotonic start, end) in which the API is down on purpose.
    gaps: list[tuple[float, float]] = field(default_factory=list)
    dead_letters: int = 0

    @property
    def ledger(self) -> Ledger:
        return self.load.ledger

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka.bootstrap_servers

    @property
    def topic(self) -> str:
        return self.settings.kafka.topic

    @property
    def api_url(self) -> str:
        return self.stack.plan.api_url

    @property
    def deadline_s(self) -> float:
        """The API's produce deadline plus the margin its answers may take beyond it."""
        return self.settings.api.produce_timeout_s + DEADLINE_MARGIN_S

    def mark(self, name: str) -> float:
        self.marks[name] = time.monotonic()
        return self.marks[name]

    def note(self, text: str) -> None:
        self.notes.append(text)

    def require(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def api_pid(self) -> int | None:
        return processes.read_pid(self.stack.plan.get("api"))

    async def start_api(self) -> Counter[str]:
        """The stack's API (gunicorn) on this scenario's topic, ready; the readiness probes' answers."""
        kafka = self.settings.kafka
        await asyncio.to_thread(_restart_api, self.stack, kafka.topic, kafka.dlq_topic)
        return await self.wait_api_ready()

    async def wait_api_ready(self) -> Counter[str]:
        return await _wait_api_ready(self)

    def unanswered_in_gap(self, attempt: Attempt) -> bool:
        """Not answered because the API was down on purpose: tolerated, indeterminate."""
        # Overlapping the gap: a connection begun just before it fails inside it.
        return attempt.error in GAP_ERRORS and any(
            attempt.started < end and attempt.finished > start for start, end in self.gaps
        )

    async def stop(self, name: str, *, kill: bool = True) -> None:
        """Stop a stack component (`kafka-2`, `clickhouse`, `zookeeper`, ...)."""
        await asyncio.to_thread(self.stack.stop, name, kill=kill)

    async def start(self, name: str) -> None:
        """Start it again and wait until it answers."""
        await asyncio.to_thread(self.stack.start, name)

    def valid_between(self, start: str, end: str | None = None) -> list[Attempt]:
        """Valid requests started between two marks."""
        until = self.marks[end] if end else float("inf")
        return [a for a in self.ledger.between(self.marks[start], until) if a.valid]

    def recovered_after_s(self, mark: str) -> float:
        """Seconds from `mark` until the last valid request that was not acknowledged."""
        failed = [a.started for a in self.valid_between(mark) if a.outcome != "acknowledged"]
        return max(failed) - self.marks[mark] if failed else 0.0


class Scenario:
    name = "scenario"
    summary = ""
    partitions = 6
    etl_processes = 1
    long_fault = False
    # Extra environment of the scenario's ETL processes (settings it lowers).
    etl_env: ClassVar[Mapping[str, str]] = {}

    def fault_s(self, profile: Profile) -> float:
        return profile.long_fault_s if self.long_fault else profile.fault_s

    async def prepare(self, run: Run) -> None:
        """After the database exists, before the API and the ETL start."""

    async def fault(self, run: Run) -> None:
        raise NotImplementedError

    def expect(self, run: Run) -> None:
        """Checks beyond the oracle's rules; call `run.require`."""

    async def restore(self, run: Run) -> None:
        """Undo what `prepare` or `fault` changed; runs after the ETL stopped, also on failure."""


@dataclass(frozen=True)
class Result:
    name: str
    verdict: Verdict | None
    seconds: float
    drain_s: float
    problems: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


async def run_scenario(
    stack: Stack, scenario: Scenario, profile: Profile, log_dir: Path, *, keep_data: bool = False
) -> Result:
    began = time.monotonic()
    suffix = uuid.uuid4().hex[:8]
    database = f"chaos_{scenario.name.replace('-', '_')}_{suffix}"
    base = stack.service_settings()
    settings = base.model_copy(
        update={
            "kafka": base.kafka.model_copy(
                update={
                    "topic": f"chaos.{scenario.name}.{suffix}",
                    "dlq_topic": f"chaos.{scenario.name}.{suffix}.dlq",
                }
            ),
            # As the stack's own ETL has it: the other nodes to fail over to.
            "clickhouse": base.clickhouse.model_copy(
                update={
                    "database": database,
                    "alt_hosts": ",".join(
                        f"127.0.0.1:{node.port}" for node in stack.plan.clickhouse_nodes[1:]
                    ),
                }
            ),
            "etl": base.etl.model_copy(update={"group_id": f"chaos-{scenario.name}-{suffix}"}),
        }
    )
    log_dir.mkdir(parents=True, exist_ok=True)
    # No kept-alive connections: ClickHouse closes an idle one after 3 s
    # (keep_alive_timeout), and a query after a longer pause (a drain, a
    # snapshot after a fault) read a closed socket: etl-kill's ReadError('').
    async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as http:
        run = Run(
            stack=stack,
            profile=profile,
            settings=settings,
            database=database,
            clickhouse=ClickHouseNodes(stack.plan.clickhouse_nodes, http),
            http=http,
            etls=EtlPool(settings, log_dir, scenario.etl_env),
            load=LoadGenerator(stack.plan.api_url, rate=profile.rate, tag=f"chaos-{suffix}"),
        )
        verdict: Verdict | None = None
        drain_s = float("nan")
        try:
            await _set_up(run, scenario)
            verdict, drain_s = await _load_fault_check(run, scenario)
        except Exception as error:  # a broken scenario is a failed scenario, not a crash
            run.problems.append(f"scenario error: {error!r}")
        finally:
            await asyncio.to_thread(run.etls.stop_all)
            try:
                await scenario.restore(run)
            except Exception as error:
                run.problems.append(f"restore error: {error!r}")
            await asyncio.to_thread(restore_infrastructure, stack)
            run.require(
                not run.etls.died_unexpectedly(),
                "ETL process(es) died on their own: "
                + ", ".join(str(p.log_path) for p in run.etls.died_unexpectedly()),
            )
            if run.problems and keep_data:
                run.note(f"kept for inspection: database {database}, topic {run.topic}")
            else:
                await _tear_down(run)
    return Result(
        scenario.name,
        verdict,
        time.monotonic() - began,
        drain_s,
        tuple(run.problems),
        tuple(run.notes),
    )


async def _set_up(run: Run, scenario: Scenario) -> None:
    kafka = run.settings.kafka
    await kafka_topics.ensure_topics(
        run.bootstrap, {kafka.topic: scenario.partitions, kafka.dlq_topic: 1}, replication=3
    )
    await migrate(run.settings.clickhouse)
    await scenario.prepare(run)
    await run.start_api()
    for _ in range(scenario.etl_processes):
        run.etls.start()


def _restart_api(stack: Stack, topic: str, dlq_topic: str) -> None:
    """The stack's own API component (gunicorn), pointed at this scenario's topic."""
    api = stack.plan.get("api")
    processes.stop(api)
    processes.start(
        api, {"CLICKSTREAM_KAFKA__TOPIC": topic, "CLICKSTREAM_KAFKA__DLQ_TOPIC": dlq_topic}
    )


async def _wait_api_ready(run: Run) -> Counter[str]:
    """Ready in a row, so every gunicorn worker's producer most likely is; the probes' answers."""
    streak = 0
    answers: Counter[str] = Counter()
    async with asyncio.timeout(API_READY_TIMEOUT_S):
        while streak < API_READY_STREAK:
            try:
                # A new connection each time: the workers share the socket.
                response = await run.http.get(
                    f"{run.api_url}/readyz", headers={"Connection": "close"}
                )
                answers[str(response.status_code)] += 1
                streak = streak + 1 if response.status_code == 200 else 0
            except httpx.HTTPError as error:
                answers[type(error).__name__] += 1
                streak = 0
            await asyncio.sleep(0.1)
    return answers


async def _load_fault_check(run: Run, scenario: Scenario) -> tuple[Verdict, float]:
    profile = run.profile
    stop = asyncio.Event()
    load = asyncio.create_task(run.load.run(stop))
    pressure = cpu_pressure_s()
    try:
        run.mark("load")
        await asyncio.sleep(profile.warmup_s)
        await scenario.fault(run)
        run.mark("recovered")
        await asyncio.sleep(profile.after_s)
    finally:
        stop.set()
        await load
    run.mark("load_end")
    _note_cpu(run, cpu_pressure_s() - pressure)
    drain_s = await _drain(run)
    run.kafka = await brokers.read_topic(run.bootstrap, run.topic)
    ends = await brokers.end_offsets(run.bootstrap, run.settings.kafka.dlq_topic)
    run.dead_letters = sum(ends.values())
    verdict = judge(run.ledger, await run.clickhouse.snapshot(run.database), run.kafka)
    run.problems.extend(verdict.problems())
    _expect_everywhere(run)
    scenario.expect(run)
    return verdict, drain_s


def _note_cpu(run: Run, pressure_s: float) -> None:
    """Where the time went on the machine: late answers on a starved one are not the API's."""
    master = run.api_pid()
    pids = [master, *children(master)] if master else []
    times = [cpu_times_s(pid) for pid in pids]
    ran, waited = sum(t[0] for t in times), sum(t[1] for t in times)
    run.note(
        f"under load ({run.marks['load_end'] - run.marks['load']:.0f}s): some task waited for a "
        f"CPU {pressure_s:.0f}s; the API's processes now running ran {ran:.0f}s, waited "
        f"{waited:.0f}s for a CPU"
    )


async def _drain(run: Run) -> float:
    """Until the group committed everything, every ack is visible and replicas agree."""
    acknowledged = run.ledger.events("acknowledged")
    started = time.monotonic()
    deadline = started + run.profile.drain_timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            lag = await brokers.lag(run.bootstrap, run.topic, run.settings.etl.group_id)
            if lag == 0:
                snapshot = await run.clickhouse.snapshot(run.database)
                if acknowledged <= set(snapshot.final) and not snapshot.replicas_disagree():
                    return time.monotonic() - started
        await asyncio.sleep(1.0)
    run.note(f"not drained after {run.profile.drain_timeout_s:.0f}s")
    return time.monotonic() - started


def _expect_everywhere(run: Run) -> None:
    """Whatever the fault: no 500, no hang, every broken request a 422."""
    attempts = run.ledger.attempts
    server_errors = [a for a in attempts if a.outcome == "server_error"]
    run.require(not server_errors, f"server errors: {Ledger.answers(server_errors)}")
    in_gap = [a for a in attempts if run.unanswered_in_gap(a)]
    no_answer = [a for a in attempts if a.status is None and not run.unanswered_in_gap(a)]
    if in_gap:
        run.note(f"no answer while the API was down on purpose: {Ledger.answers(in_gap)}")
    hangs = [a for a in no_answer if a.error == "Timeout"]
    if hangs:
        run.note(f"unanswered within 10 s: {_when(run, hangs)}")
    if hangs and not run.profile.judge_hangs:
        run.note(
            f"not judged in the {run.profile.name} run: {len(hangs)} requests without an "
            f"answer within 10 s: {Ledger.answers(hangs)}"
        )
        no_answer = [a for a in no_answer if a.error != "Timeout"]
    run.require(
        not no_answer, f"requests without an answer (hang/refused): {Ledger.answers(no_answer)}"
    )
    # A hang is no answer within the client's deadline (10 s, twice the API's
    # own Kafka deadline): counted above. Answers later than the API's own
    # deadline are shown, not failed: on two busy cores they happen.
    late = sorted((a for a in attempts if a.latency_s > LATE_ANSWER_S), key=lambda a: a.started)
    if late:
        run.note(
            f"{len(late)} answers later than {LATE_ANSWER_S:.0f}s: "
            + ", ".join(
                f"{a.answer} after {a.latency_s:.1f}s (sent at +{a.started - run.marks['load']:.1f}s)"
                for a in late[:5]
            )
        )
    invalid = [a for a in attempts if not a.valid]
    wrong = [a for a in invalid if a.status != 422 and not run.unanswered_in_gap(a)]
    run.require(not wrong, f"invalid events not answered 422: {Ledger.answers(wrong)}")
    # The invalid events never reach Kafka (422 at the door): whatever the ETL
    # dead-letters is a valid event it gave up on.
    run.require(run.dead_letters == 0, f"{run.dead_letters} records in the dead-letter topic")
    valid = [a for a in attempts if a.valid]
    marks = ", ".join(f"{name} +{at - run.marks['load']:.1f}s" for name, at in run.marks.items())
    run.note(f"answers to valid requests: {Ledger.answers(valid)}; marks: {marks}")
    # Every late answer so far came from a machine busier than its 2 cores: say how busy.
    load_1, load_5, _ = os.getloadavg()
    run.note(
        f"load generator's event loop late by {run.load.max_loop_lag_s:.2f}s at most; "
        f"machine load {load_1:.1f} (1 min), {load_5:.1f} (5 min) on {os.cpu_count()} CPUs"
    )


def _when(run: Run, attempts: list[Attempt]) -> str:
    """When each request began (since the load, and UTC to match the API's log),
    and how long it took the client (its connect, if it made one) to send its head."""
    wall = time.time() - time.monotonic()
    described = []
    for a in sorted(attempts, key=lambda a: a.started)[:10]:
        utc = datetime.fromtimestamp(a.started + wall, UTC).strftime("%H:%M:%S.%f")[:-3]
        head = "never sent" if a.sent is None else f"head out after {a.sent - a.started:.2f}s"
        if a.connect_started is not None:
            connect = (
                "never completed"
                if a.connected is None
                else f"took {a.connected - a.connect_started:.2f}s"
            )
            head += f"; its connect began after {a.connect_started - a.started:.2f}s, {connect}"
        described.append(f"+{a.started - run.marks['load']:.1f}s ({utc} UTC, {head})")
    return ", ".join(described)


async def _tear_down(run: Run) -> None:
    # The migrations make two databases: the scenario's and the ETL's door beside it.
    for database in (run.database, f"{run.database}{ETL_DATABASE_SUFFIX}"):
        with contextlib.suppress(Exception):
            await run.clickhouse.drop_database(database, run.settings.clickhouse.cluster)
    with contextlib.suppress(Exception):
        await kafka_topics.delete_topics(run.bootstrap, [run.topic, run.settings.kafka.dlq_topic])
    try:
        left = await run.clickhouse.databases_named(run.database)
    except Exception as error:
        run.problems.append(f"clean-up not checked: {error!r}")
    else:
        run.require(not left, f"databases left after the clean-up: {', '.join(sorted(left))}")
