"""The oracle: what the API answered, against what Kafka and ClickHouse hold.

Rules, per event id:
- acknowledged (2xx): must be in Kafka and in `events FINAL`, exactly once;
- indeterminate (503, timeout, no answer): may be stored or not, but at most once;
- rejected (4xx): must not be stored;
- nothing may be stored that was not sent;
- the replicas of each shard must hold the same ids.
Raw duplicates (rows before FINAL collapses them) are reported, not failed:
the pipeline is at-least-once into a replacing table by design.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.chaos.brokers import Placement
from tests.chaos.load import Ledger
from tests.chaos.storage import Snapshot

SHOWN_IDS = 20


@dataclass(frozen=True)
class Verdict:
    sent: int
    acknowledged: int
    indeterminate: int
    rejected: int
    stored: int
    raw_duplicates: int
    kafka_repeats: int
    lost: frozenset[str]
    lost_in_kafka: frozenset[str]
    duplicates: frozenset[str]
    unsent_stored: frozenset[str]
    rejected_stored: frozenset[str]
    replicas: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        found = []
        for what, ids in (
            ("acknowledged but not in ClickHouse (lost)", self.lost),
            ("acknowledged but not in Kafka", self.lost_in_kafka),
            ("visible more than once in events FINAL", self.duplicates),
            ("stored but never sent", self.unsent_stored),
            ("rejected but stored", self.rejected_stored),
        ):
            if ids:
                shown = ", ".join(sorted(ids)[:SHOWN_IDS])
                more = f" (+{len(ids) - SHOWN_IDS} more)" if len(ids) > SHOWN_IDS else ""
                found.append(f"{len(ids)} {what}: {shown}{more}")
        found += [f"replicas disagree: {problem}" for problem in self.replicas]
        return found


def judge(ledger: Ledger, snapshot: Snapshot, kafka: dict[str, list[Placement]]) -> Verdict:
    sent = ledger.events()
    acknowledged = ledger.events("acknowledged")
    rejected = ledger.events("rejected")
    stored = set(snapshot.final)
    return Verdict(
        sent=len(sent),
        acknowledged=len(acknowledged),
        indeterminate=len(ledger.events("indeterminate")),
        rejected=len(rejected),
        stored=len(stored),
        raw_duplicates=sum(snapshot.raw.values()) - len(snapshot.raw),
        kafka_repeats=sum(len(places) - 1 for places in kafka.values()),
        lost=frozenset(acknowledged - stored),
        lost_in_kafka=frozenset(acknowledged - kafka.keys()),
        duplicates=frozenset(i for i, n in snapshot.final.items() if n > 1),
        unsent_stored=frozenset(stored - sent),
        rejected_stored=frozenset(stored & rejected),
        replicas=tuple(snapshot.replicas_disagree()),
    )
