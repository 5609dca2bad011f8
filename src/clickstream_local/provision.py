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

DEBIAN_PACKAGES = ("clickhouse-server", "clickhouse-client", "zookeeper")
CLICKHOUSE_BIN = Path("/usr/sbin/clickhouse-server")
ZOOKEEPER_SHARE = Path("/usr/share/zookeeper")
KAFKA_POM = "kafka-pom.xml"


class ProvisionError(RuntimeError):
    """A piece of the local stack cannot be installed; the message names it."""


def say(message: str) -> None:
    print(f"[local] {message}", file=sys.stderr, flush=True)


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
    return kafka_libs(cache_dir)
