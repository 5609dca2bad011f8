"""First-run set-up of the local stack: Debian packages and Kafka's jars.

Everything here is idempotent and prints what it does, because the first run
downloads a few hundred megabytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import TextIO

from clickstream_local import kafka_cds
from clickstream_local.kafka_config import KAFKA_JVM_OPTIONS

DEBIAN_PACKAGES = ("clickhouse-server", "clickhouse-client", "zookeeper")
CLICKHOUSE_BIN = Path("/usr/sbin/clickhouse-server")
ZOOKEEPER_SHARE = Path("/usr/share/zookeeper")
KAFKA_POM = "kafka-pom.xml"


class ProvisionError(RuntimeError):
    """A piece of the local stack cannot be installed; the message names it."""


def say(message: str) -> None:
    print_safely(f"[local] {message}", file=sys.stderr)


def print_safely(text: str, *, file: TextIO | None = None) -> None:
    """Print, unless the reader is gone: a dead pipe must not stop the supervisor.

    With `make run 2>&1 | tee run.log`, Ctrl-C kills tee too, and the next
    message would raise BrokenPipeError in the middle of stopping the stack.
    Once a stream is broken it is pointed at /dev/null, so that neither later
    messages nor the interpreter's flush at exit fail again.
    """
    stream = file or sys.stdout
    try:
        print(text, file=stream, flush=True)
    except OSError:
        _silence(stream)


def _silence(stream: TextIO) -> None:
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def _missing_debian_packages() -> list[str]:
    missing = []
    if not CLICKHOUSE_BIN.exists():
        missing += ["clickhouse-server", "clickhouse-client"]
    if not ZOOKEEPER_SHARE.is_dir():
        missing.append("zookeeper")
    return missing


def ensure_debian_packages() -> None:
    missing = _missing_debian_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise ProvisionError(
            f"missing Debian packages {' '.join(missing)}; run as root or "
            f"`sudo apt-get install {' '.join(DEBIAN_PACKAGES)}`"
        )
    say(f"installing Debian packages: {' '.join(DEBIAN_PACKAGES)} (first run only)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *DEBIAN_PACKAGES],
    ):
        result = subprocess.run(argv, env=env, check=False)
        if result.returncode != 0:
            raise ProvisionError(f"`{' '.join(argv)}` failed with exit code {result.returncode}")
    if _missing_debian_packages():
        raise ProvisionError(f"apt-get installed, but still missing: {_missing_debian_packages()}")


def ensure_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ProvisionError("java not found: Kafka and ZooKeeper need a Java 17 runtime")
    return java


def kafka_libs_dir(cache_dir: Path) -> Path:
    """Where `kafka_libs` puts Kafka's jars; nothing is installed by asking."""
    return cache_dir / "kafka" / "libs"


def kafka_libs(cache_dir: Path) -> Path:
    """Kafka's jars, resolved once from Maven Central into the project cache."""
    libs = kafka_libs_dir(cache_dir)
    marker = libs / ".complete"
    pom_text = resources.files(__package__).joinpath(KAFKA_POM).read_text()
    if marker.exists() and marker.read_text() == pom_text:
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ProvisionError("mvn not found: Maven is needed to fetch Kafka's jars")
    say("resolving Apache Kafka jars from Maven Central (first run only)")
    if libs.exists():
        shutil.rmtree(libs)
    libs.mkdir(parents=True)
    pom = cache_dir / "kafka" / KAFKA_POM
    pom.write_text(pom_text)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs.resolve()}",
            "-DincludeScope=runtime",
        ],
        check=False,
    )
    if result.returncode != 0:
        raise ProvisionError(f"Maven could not resolve Kafka's jars (exit {result.returncode})")
    marker.write_text(pom_text)
    return libs


def provision(cache_dir: Path) -> Path:
    """Install what is missing; returns the Kafka classpath directory."""
    ensure_debian_packages()
    ensure_java()
    libs = kafka_libs(cache_dir)
    kafka_cds.ensure_archive(libs, list(KAFKA_JVM_OPTIONS), say)
    return libs
