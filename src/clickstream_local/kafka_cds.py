"""A class-data-sharing archive for the local brokers: their start-up CPU cut by a third.

A broker's JVM spends most of its start-up loading and verifying Kafka's
classes: about 5 s of CPU each, measured here. On two shared cores that is
the CPU the API needs while brokers restart (docs/chaos.md). A dynamic CDS
archive (JDK 13+) holds those classes ready to map, which leaves about 3 s.

The archive is made once per set of jars and JVM: a throwaway broker, on
free ports in a scratch directory, starts and stops with
`-XX:ArchiveClassesAtExit`. It is tried with `-Xshare:on` and only then
renamed into place, because a truncated archive crashes the JVM (SIGBUS).
One that no longer matches the classpath is skipped by the JVM with a
warning. If making it fails, the brokers start without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from clickstream_local.kafka_config import KAFKA_LOG4J, broker_properties, new_cluster_id

START_TIMEOUT_S = 60.0
# Long enough for the controller to elect itself and the broker to register,
# so that their classes are in the archive too.
SETTLE_S = 3.0


def archive_path(libs: Path) -> Path:
    """Where the archive for these jars and this JVM lives (it may not exist)."""
    java = Path(os.path.realpath(shutil.which("java") or "java"))
    key = hashlib.sha256()
    with contextlib.suppress(OSError):
        stat = java.stat()
        key.update(f"{java}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for jar in sorted(libs.glob("*.jar")):
        key.update(f"{jar.name}:{jar.stat().st_size}".encode())
    return libs.parent / f"classes-{key.hexdigest()[:16]}.jsa"


def archive_options(libs: Path) -> list[str]:
    """The JVM option that maps the archive, or none while there is no archive."""
    path = archive_path(libs)
    return [f"-XX:SharedArchiveFile={path}"] if path.exists() else []


def ensure_archive(libs: Path, jvm_options: list[str], say: Callable[[str], None]) -> Path | None:
    """Make the archive unless it exists; None if it cannot be made (tried once).

    `say` is told what happens: making one takes about 10 s.
    """
    path = archive_path(libs)
    if path.exists():
        return path
    failed = path.with_suffix(".failed")
    if failed.exists():
        return None
    say("making a class archive for faster Kafka start-ups (first run only)")
    try:
        _make(libs, jvm_options, path)
    except (OSError, subprocess.SubprocessError, RuntimeError) as error:
        say(f"no class archive, brokers start without it (delete {failed} to try again): {error}")
        failed.write_text(f"{error}\n")
        return None
    return path


def _make(libs: Path, jvm_options: list[str], path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kafka-cds-", dir=libs.parent) as scratch:
        work = Path(scratch)
        port, controller_port = _free_ports(2)
        properties = broker_properties(
            node_id=1,
            port=port,
            controller_port=controller_port,
            voters=f"1@127.0.0.1:{controller_port}",
            data_dir=work / "data",
            partitions=1,
            brokers=1,
        )
        props = work / "server.properties"
        props.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
        log4j = work / "log4j2.properties"
        log4j.write_text(KAFKA_LOG4J)
        java = ["java", *jvm_options, f"-Dlog4j2.configurationFile={log4j}"]
        classpath = ["-cp", f"{libs.resolve()}/*"]
        cluster = [f"--cluster-id={new_cluster_id()}"]
        draft = work / "classes.jsa"
        with (work / "broker.log").open("wb") as log:
            subprocess.run(
                [
                    *java,
                    *classpath,
                    "kafka.tools.StorageTool",
                    "format",
                    *cluster,
                    "-c",
                    str(props),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=START_TIMEOUT_S,
            )
            broker = subprocess.Popen(
                [*java, f"-XX:ArchiveClassesAtExit={draft}", *classpath, "kafka.Kafka", str(props)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_for_port(port, broker)
                time.sleep(SETTLE_S)
            finally:
                broker.send_signal(signal.SIGTERM)
                try:
                    # The archive is written as the JVM exits: a few seconds.
                    broker.wait(timeout=START_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    broker.kill()
                    broker.wait()
                    raise
        check = subprocess.run(
            [*java, "-Xshare:on", f"-XX:SharedArchiveFile={draft}", *classpath, "-version"],
            capture_output=True,
            timeout=START_TIMEOUT_S,
        )
        if check.returncode != 0 or not draft.exists():
            raise RuntimeError(f"the archive does not load (java exit {check.returncode})")
        draft.replace(path)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the broker exited early (exit {process.returncode})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the broker did not listen within {START_TIMEOUT_S:g} s")
