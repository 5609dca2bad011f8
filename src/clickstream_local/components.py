"""What the local stack is made of: one `Component` per process.

`plan()` turns the settings and a topology into the processes, their ports,
config files and data directories. Nothing here starts anything.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from clickstream_local.clickhouse_config import (
    CLICKHOUSE_CONFIG,
    CLICKHOUSE_USERS,
    ETL_DATABASE_SUFFIX,
    ETL_USER,
    MIGRATOR_USER,
)
from clickstream_local.kafka_cds import archive_options
from clickstream_local.kafka_config import (
    JIT_QUICK_ONLY,
    KAFKA_JVM_OPTIONS,
    KAFKA_LOG4J,
    broker_properties,
    cluster_id_of,
)
from clickstream_local.priorities import API_NICE, CLICKHOUSE_NICE
from clickstream_local.settings import LocalSettings, Topology

Kind = Literal["zookeeper", "kafka", "clickhouse", "api", "etl", "rollup"]

ZOOKEEPER_CLASSPATH = "/usr/share/java/*:/usr/share/zookeeper/*:/etc/zookeeper/conf"
CLUSTER_NAME = "clickstream"


@dataclass(frozen=True)
class Component:
    name: str
    kind: Kind
    ports: dict[str, int]
    workdir: Path
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    # Files written before every start: path -> content.
    files: dict[Path, str] = field(default_factory=dict)
    # Commands run once, before the first start (e.g. formatting Kafka's log dir).
    init: list[list[str]] = field(default_factory=list)
    # Scheduling priority (`processes.start` sets the session's too): above 0
    # yields the cores, below 0 goes first (root only; priorities.py).
    nice: int = 0

    @property
    def log_file(self) -> Path:
        return self.workdir / "process.log"

    @property
    def pid_file(self) -> Path:
        return self.workdir / "process.pid"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"


@dataclass(frozen=True)
class ClickHouseNode:
    shard: int
    replica: int
    port: int
    http_port: int
    interserver_port: int


@dataclass(frozen=True)
class StackPlan:
    topology: Topology
    components: list[Component]
    kafka_bootstrap: str
    clickhouse_nodes: list[ClickHouseNode]
    api_url: str
    etl_metrics_url: str

    def get(self, name: str) -> Component:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(name)

    def select(self, name: str) -> list[Component]:
        """A component by name, or every component of a kind (`kafka`, `clickhouse`)."""
        chosen = [c for c in self.components if name in (c.name, c.kind)]
        if not chosen:
            known = ", ".join(
                sorted({c.name for c in self.components} | {c.kind for c in self.components})
            )
            raise KeyError(f"no component {name!r}; known: {known}")
        return chosen


def _topology_dir(local: LocalSettings, topology: Topology) -> Path:
    """Each topology keeps its own data: a single node's tables are not replicated."""
    return local.state_dir.resolve() / topology


def _kafka(local: LocalSettings, topology: Topology, libs: Path) -> list[Component]:
    state = _topology_dir(local, topology)
    count = 3 if topology == "cluster" else 1
    ports = [local.kafka_port + i for i in range(count)]
    controller_ports = [port + 100 for port in ports]
    voters = ",".join(f"{i + 1}@127.0.0.1:{controller_ports[i]}" for i in range(count))
    cluster_id = cluster_id_of(state)
    classpath = f"{libs.resolve()}/*"
    archive = archive_options(libs)
    components = []
    for i in range(count):
        workdir = state / f"kafka-{i + 1}"
        props = workdir / "server.properties"
        log4j = workdir / "log4j2.properties"
        java = [
            "java",
            *KAFKA_JVM_OPTIONS,
            *archive,
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            classpath,
        ]
        properties = broker_properties(
            node_id=i + 1,
            port=ports[i],
            controller_port=controller_ports[i],
            voters=voters,
            data_dir=workdir / "data",
            partitions=local.partitions,
            brokers=count,
        )
        components.append(
            Component(
                name=f"kafka-{i + 1}",
                kind="kafka",
                ports={"kafka": ports[i], "controller": controller_ports[i]},
                workdir=workdir,
                argv=[*java, "kafka.Kafka", str(props)],
                files={
                    props: "".join(f"{k}={v}\n" for k, v in properties.items()),
                    log4j: KAFKA_LOG4J,
                },
                init=[
                    [
                        *java,
                        "kafka.tools.StorageTool",
                        "format",
                        "--ignore-formatted",
                        # One token, so that an id kept from before the
                        # rule above, starting with "-", still parses.
                        f"--cluster-id={cluster_id}",
                        "-c",
                        str(props),
                    ]
                ],
            )
        )
    return components


def _zookeeper(local: LocalSettings) -> Component:
    workdir = _topology_dir(local, "cluster") / "zookeeper"
    cfg = workdir / "zoo.cfg"
    return Component(
        name="zookeeper",
        kind="zookeeper",
        ports={"client": local.zookeeper_port},
        workdir=workdir,
        argv=[
            "java",
            "-Xms64m",
            "-Xmx256m",
            JIT_QUICK_ONLY,
            "-cp",
            ZOOKEEPER_CLASSPATH,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            str(cfg),
        ],
        files={
            cfg: (
                f"dataDir={workdir / 'data'}\n"
                f"clientPort={local.zookeeper_port}\n"
                "clientPortAddress=127.0.0.1\n"
                "tickTime=2000\ninitLimit=10\nsyncLimit=5\nmaxClientCnxns=0\n"
                "4lw.commands.whitelist=ruok,mntr,stat,srvr\n"
                "admin.enableServer=false\n"
                "autopurge.purgeInterval=1\n"
            )
        },
    )


def _clickhouse_nodes(local: LocalSettings, topology: Topology) -> list[ClickHouseNode]:
    layout = [(1, 1), (1, 2), (2, 1), (2, 2)] if topology == "cluster" else [(1, 1)]
    return [
        ClickHouseNode(
            shard=shard,
            replica=replica,
            port=local.clickhouse_port + i,
            http_port=local.clickhouse_http_port + i,
            interserver_port=local.clickhouse_port + 9 + i,
        )
        for i, (shard, replica) in enumerate(layout)
    ]


def _clickhouse(local: LocalSettings, topology: Topology) -> list[Component]:
    nodes = _clickhouse_nodes(local, topology)
    shards: dict[int, list[ClickHouseNode]] = {}
    for node in nodes:
        shards.setdefault(node.shard, []).append(node)
    remote_servers = "".join(
        "<shard><internal_replication>true</internal_replication>"
        + "".join(
            f"<replica><host>127.0.0.1</host><port>{n.port}</port></replica>" for n in members
        )
        + "</shard>"
        for members in shards.values()
    )
    zookeeper = (
        "<zookeeper><node><host>127.0.0.1</host>"
        f"<port>{local.zookeeper_port}</port></node>"
        "<session_timeout_ms>10000</session_timeout_ms></zookeeper>"
        "<distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>"
        if topology == "cluster"
        else ""
    )
    components = []
    for i, node in enumerate(nodes):
        workdir = _topology_dir(local, topology) / f"clickhouse-{i + 1}"
        config = workdir / "config.xml"
        config_text = CLICKHOUSE_CONFIG.format(
            workdir=workdir,
            http_port=node.http_port,
            tcp_port=node.port,
            interserver_port=node.interserver_port,
            cluster=CLUSTER_NAME,
            remote_servers=remote_servers,
            zookeeper=zookeeper,
            shard=f"{node.shard:02d}",
            replica=f"s{node.shard}r{node.replica}",
        )
        components.append(
            Component(
                name=f"clickhouse-{i + 1}",
                kind="clickhouse",
                ports={
                    "native": node.port,
                    "http": node.http_port,
                    "interserver": node.interserver_port,
                },
                workdir=workdir,
                argv=[_clickhouse_server(), f"--config-file={config}"],
                nice=CLICKHOUSE_NICE,
                files={config: config_text, workdir / "users.xml": CLICKHOUSE_USERS},
            )
        )
    return components


def _clickhouse_server() -> str:
    return shutil.which("clickhouse-server") or "/usr/sbin/clickhouse-server"


def _pipeline(
    local: LocalSettings, topology: Topology, bootstrap: str, nodes: list[ClickHouseNode]
) -> list[Component]:
    state = _topology_dir(local, topology)
    replicated = topology == "cluster"
    env = {
        # OTEL_* from the caller's environment pass through; without them no
        # collector is assumed.
        "OTEL_TRACES_EXPORTER": os.environ.get("OTEL_TRACES_EXPORTER", "none"),
        "CLICKSTREAM_CLICKHOUSE__ALT_HOSTS": ",".join(f"127.0.0.1:{n.port}" for n in nodes[1:]),
        "CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "CLICKSTREAM_CLICKHOUSE__HOST": "127.0.0.1",
        "CLICKSTREAM_CLICKHOUSE__PORT": str(local.clickhouse_port),
        "CLICKSTREAM_CLICKHOUSE__REPLICATED": "true" if replicated else "false",
        "CLICKSTREAM_API__PORT": str(local.api_port),
        "CLICKSTREAM_API__HOST": "127.0.0.1",
        "CLICKSTREAM_ETL__METRICS_PORT": str(local.etl_metrics_port),
        "CLICKSTREAM_ETL__METRICS_HOST": "127.0.0.1",
        "CLICKSTREAM_LOG_FORMAT": "json",
    }
    cli = [sys.executable, "-m", "clickstream"]
    return [
        Component(
            name="api",
            kind="api",
            ports={"http": local.api_port},
            workdir=state / "api",
            argv=[*cli, "api"],
            nice=API_NICE,
            env={
                **env,
                "OTEL_SERVICE_NAME": "clickstream-api",
                # The tracker's test pages (and a developer's) are served from
                # other origins than the API; the caller's own list wins.
                "CLICKSTREAM_API__CORS_ALLOW_ORIGINS": os.environ.get(
                    "CLICKSTREAM_API__CORS_ALLOW_ORIGINS", '["*"]'
                ),
            },
        ),
        Component(
            name="etl",
            kind="etl",
            ports={"metrics": local.etl_metrics_port},
            workdir=state / "etl",
            argv=[*cli, "etl"],
            env={
                **env,
                "OTEL_SERVICE_NAME": "clickstream-etl",
                # The writer inserts into `<database>.events_ingest`: here the door.
                "CLICKSTREAM_CLICKHOUSE__USER": ETL_USER,
                "CLICKSTREAM_CLICKHOUSE__DATABASE": f"clickstream{ETL_DATABASE_SUFFIX}",
            },
        ),
        # Keeps the analyst rollups current, as the chart's rollup Deployment does.
        Component(
            name="rollup",
            kind="rollup",
            ports={},
            workdir=state / "rollup",
            argv=[*cli, "rollup", "--interval-s", "60"],
            env={
                **env,
                "OTEL_SERVICE_NAME": "clickstream-rollup",
                # It writes the rollup tables, which the read-only analyst cannot.
                "CLICKSTREAM_CLICKHOUSE__USER": MIGRATOR_USER,
            },
        ),
    ]


def plan(local: LocalSettings, topology: Topology, kafka_libs: Path) -> StackPlan:
    kafka = _kafka(local, topology, kafka_libs)
    bootstrap = ",".join(f"127.0.0.1:{c.ports['kafka']}" for c in kafka)
    components: list[Component] = []
    if topology == "cluster":
        components.append(_zookeeper(local))
    components += kafka
    components += _clickhouse(local, topology)
    if local.start_pipeline:
        components += _pipeline(local, topology, bootstrap, _clickhouse_nodes(local, topology))
    return StackPlan(
        topology=topology,
        components=components,
        kafka_bootstrap=bootstrap,
        clickhouse_nodes=_clickhouse_nodes(local, topology),
        api_url=f"http://127.0.0.1:{local.api_port}",
        etl_metrics_url=f"http://127.0.0.1:{local.etl_metrics_port}",
    )
