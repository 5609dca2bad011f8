"""A local Kafka broker's configuration (KRaft, broker and controller in one process)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

JIT_QUICK_ONLY = "-XX:TieredStopAtLevel=1"

# Every local Kafka JVM's options: the brokers', their storage tool's and the
# class archive's training run (kafka_cds.py), which must match the brokers'.
KAFKA_JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    # The quick JIT (C1) only. On two shared cores the optimising compiler
    # (C2) cost more CPU than it saved: a broker used 16.6-17.2 s of CPU in
    # `make bench-ingest` with it, 10.2 s without, and the API answered as
    # many events or more (docs/chaos.md, 2026-12-02).
    JIT_QUICK_ONLY,
)


def new_cluster_id() -> str:
    """A KRaft cluster id as Kafka's own `Uuid.randomUuid` makes one.

    That is a random UUID in unpadded URL-safe base64, drawn again while it
    starts with "-": one in 64 does, and Kafka's tools would read it as an
    option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def cluster_id_of(state_dir: Path) -> str:
    """The topology's KRaft cluster id, drawn on first use and kept in `state_dir`."""
    path = state_dir / "kafka-cluster-id"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_cluster_id())
    return path.read_text().strip()


def broker_properties(
    *,
    node_id: int,
    port: int,
    controller_port: int,
    voters: str,
    data_dir: Path,
    partitions: int,
    brokers: int,
) -> dict[str, str]:
    """server.properties of broker `node_id` of `brokers`, as keys and values."""
    replication = min(brokers, 3)
    min_isr = min(brokers, 2)
    return {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": str(partitions),
        "default.replication.factor": str(replication),
        "min.insync.replicas": str(min_isr),
        "offsets.topic.replication.factor": str(replication),
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": str(replication),
        "transaction.state.log.min.isr": str(min_isr),
        "share.coordinator.state.topic.replication.factor": str(replication),
        "share.coordinator.state.topic.min.isr": str(min_isr),
        "unclean.leader.election.enable": "false",
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "log.retention.hours": "168",
        "log.segment.bytes": str(256 * 1024 * 1024),
    }


KAFKA_LOG4J = """\
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
"""
