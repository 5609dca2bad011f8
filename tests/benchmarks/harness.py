"""Shared pieces of the benchmark scripts: processes, wrk, numbers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from clickstream_local import kafka_topics
from clickstream_local.settings import LocalSettings
from clickstream_local.stack import Stack, open_stack

ROOT = Path(__file__).resolve().parents[2]


def running_stack() -> Stack:
    stack = open_stack(LocalSettings())
    broken = [
        row["name"]
        for row in stack.status()["components"]
        if row["kind"] in ("kafka", "clickhouse", "zookeeper") and not row["healthy"]
    ]
    if broken:
        sys.exit(f"the local stack is not up ({', '.join(broken)}): run `make up` first")
    return stack


def new_topic(stack: Stack, prefix: str, partitions: int) -> str:
    topic = f"{prefix}.{uuid.uuid4().hex[:8]}"
    replication = min(3, len([c for c in stack.plan.components if c.kind == "kafka"]))
    asyncio.run(
        kafka_topics.ensure_topics(
            stack.plan.kafka_bootstrap, {topic: partitions}, replication=replication
        )
    )
    return topic


def drop_topic(stack: Stack, topic: str) -> None:
    asyncio.run(kafka_topics.delete_topics(stack.plan.kafka_bootstrap, [topic]))


@contextlib.contextmanager
def process(
    argv: list[str], env: dict[str, str], ready_url: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False)  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
    )
    try:
        if ready_url:
            deadline = time.monotonic() + 60
            while not http_ok(ready_url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{argv} did not become ready; log: {log.name}")
                time.sleep(0.2)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, body: bytes, *, seconds: int, connections: int, threads: int = 2) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        literal = body.decode().replace("\\", "\\\\").replace("]]", "] ]")
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = [[{literal}]]\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            script.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(script.name)
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    percentiles = {
        m.group(1): float(m.group(2)) * _UNITS[m.group(3)]
        for m in re.finditer(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return WrkResult(
        rps, percentiles["50"], percentiles["99"], int(non_2xx.group(1)) if non_2xx else 0
    )


def machine() -> str:
    """CPUs, CPU model, memory and date: what a benchmark's numbers belong to."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M)
    memory = f"{int(total_kb.group(1)) / 2**20:.1f} GiB" if total_kb else "unknown memory"
    return (
        f"{os.cpu_count()} CPUs ({model.group(1).strip() if model else 'unknown model'}), "
        f"{memory} RAM, {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )
