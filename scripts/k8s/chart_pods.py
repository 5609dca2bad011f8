"""Run the chart's own workloads from their rendered pod specs, as a kubelet would.

`make chart-pods-test` renders the chart with `kafka.external` and
`clickhouse.external` pointing at a local stack, then:

1. runs the migrations Job's container and waits for exit code 0;
2. starts the ETL and ingest Deployments' containers with podman: the same
   image, command, args, env (values, secrets, field refs, `$(VAR)`
   expansion), security context (user, read-only root, dropped capabilities,
   no privilege escalation), emptyDir volumes and memory limits;
3. probes them the way the kubelet does: each container's own startup,
   liveness and readiness probes (httpGet path and named port) until ready;
4. sends one event to the ingest container and waits for it in ClickHouse.

The translation refuses what it does not understand (an unknown volume type,
an env source it cannot resolve, a probe kind other than httpGet), so a new
template feature fails here loudly instead of being skipped.

usage: chart_pods.py --manifest RENDERED.yaml --podman "podman --runtime ..."
       [--limits "..."] --secret NAME/KEY=VALUE ... --clickhouse-http URL
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml

POD_NAMESPACE = "clickstream"
_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


class SpecError(Exception):
    """The rendered spec uses something this translator cannot run faithfully."""


@dataclass
class Workload:
    kind: str
    name: str
    pod: dict[str, Any]
    containers: list[str] = field(default_factory=list)


def load_workloads(manifest: str) -> dict[str, Workload]:
    found: dict[str, Workload] = {}
    with open(manifest) as stream:
        for doc in yaml.safe_load_all(stream):
            if not doc or doc.get("kind") not in ("Deployment", "Job"):
                continue
            component = doc["metadata"].get("labels", {}).get("app.kubernetes.io/component", "")
            found[component] = Workload(
                doc["kind"], doc["metadata"]["name"], doc["spec"]["template"]["spec"]
            )
    return found


def _expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: defined variables only, others stay as written."""
    return _VAR.sub(lambda m: env.get(m.group(1), m.group(0)), value)


def container_env(
    container: dict[str, Any], pod_name: str, secrets: dict[tuple[str, str], str]
) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in container.get("env", []):
        name = item["name"]
        if "value" in item:
            env[name] = _expand(str(item["value"]), env)
            continue
        source = item.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            key = (ref["name"], ref["key"])
            if key not in secrets:
                raise SpecError(f"env {name}: no secret {ref['name']}/{ref['key']} given")
            env[name] = secrets[key]
        elif "fieldRef" in source:
            path = source["fieldRef"]["fieldPath"]
            fields = {"metadata.name": pod_name, "metadata.namespace": POD_NAMESPACE}
            if path not in fields:
                raise SpecError(f"env {name}: fieldRef {path} is not supported here")
            env[name] = fields[path]
        else:
            raise SpecError(f"env {name}: unsupported source {sorted(source)}")
    if container.get("envFrom"):
        raise SpecError("envFrom is not supported here")
    return env


def podman_args(
    workload: Workload, container: dict[str, Any], secrets: dict[tuple[str, str], str]
) -> list[str]:
    """`podman run` arguments equivalent to one container of the pod spec."""
    pod = workload.pod
    pod_name = f"{workload.name}-chart-pods"
    args = ["--network", "host", "--name", f"{pod_name}-{container['name']}"]
    pod_security = pod.get("securityContext", {})
    security = {**pod_security, **container.get("securityContext", {})}
    if "runAsUser" in security:
        args += ["--user", f"{security['runAsUser']}:{security.get('runAsGroup', 0)}"]
    if security.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if security.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    if security.get("privileged"):
        raise SpecError("privileged containers are not run here")
    for capability in security.get("capabilities", {}).get("drop", []):
        args += ["--cap-drop", capability]
    memory = container.get("resources", {}).get("limits", {}).get("memory")
    if memory:
        args += ["--memory", memory.replace("Mi", "m").replace("Gi", "g")]
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"])
        if volume is None:
            raise SpecError(f"volumeMount {mount['name']} has no volume")
        if "emptyDir" not in volume:
            raise SpecError(f"volume {mount['name']}: only emptyDir is supported here")
        size = volume["emptyDir"].get("sizeLimit", "64Mi").replace("Mi", "m").replace("Gi", "g")
        # A writable tmpfs owned by the pod's fsGroup, as an emptyDir would be.
        options = f"rw,size={size},mode=1777"
        args += ["--tmpfs", f"{mount['mountPath']}:{options}"]
    for name, value in container_env(container, pod_name, secrets).items():
        args += ["--env", f"{name}={value}"]
    command = container.get("command")
    if command:
        args += ["--entrypoint", command[0]]
    args.append(container["image"])
    args += [*(command or [])[1:], *container.get("args", [])]
    return args


def probe_url(container: dict[str, Any], probe: dict[str, Any]) -> str:
    if "httpGet" not in probe:
        raise SpecError(f"{container['name']}: only httpGet probes are supported here")
    http = probe["httpGet"]
    port = http["port"]
    if isinstance(port, str):
        named = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
        if port not in named:
            raise SpecError(f"{container['name']}: probe port {port!r} is not a named port")
        port = named[port]
    return f"http://127.0.0.1:{port}{http.get('path', '/')}"


def http_status(url: str, timeout_s: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, urllib.error.URLError):
        return 0


def wait_probe(container: dict[str, Any], kind: str, deadline_s: float) -> None:
    """Succeed as the kubelet would: a 2xx/3xx answer within the probe's own budget."""
    probe = container.get(kind)
    if probe is None:
        return
    url = probe_url(container, probe)
    period = float(probe.get("periodSeconds", 10))
    timeout = float(probe.get("timeoutSeconds", 1))
    # The kubelet gives up after failureThreshold periods (startup) or keeps
    # restarting; here a probe must pass within its budget or the deadline.
    budget = min(deadline_s, float(probe.get("initialDelaySeconds", 0)) + period * max(
        int(probe.get("failureThreshold", 3)), 1
    ))
    if kind == "readinessProbe":
        budget = deadline_s
    started = time.monotonic()
    status = 0
    while time.monotonic() - started < budget:
        status = http_status(url, timeout)
        if 200 <= status < 400:
            print(f"  {container['name']} {kind} {url}: {status}")
            return
        time.sleep(min(period, 2.0))
    raise SystemExit(f"{container['name']} {kind} {url} failed: last status {status}")


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, text=True, capture_output=True, **kwargs)


def clickhouse_count(base: str, database: str, event_id: str) -> int:
    query = f"SELECT count() FROM {database}.events WHERE event_id = toUUID('{event_id}')"
    url = f"{base}/?{urllib.parse.urlencode({'query': query})}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.read().decode().strip() or 0)
    except (OSError, ValueError, urllib.error.URLError):
        return -1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--podman", default="podman")
    parser.add_argument("--limits", default="")
    parser.add_argument("--secret", action="append", default=[], help="NAME/KEY=VALUE")
    parser.add_argument("--clickhouse-http", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--timeout", type=float, default=120.0)
    options = parser.parse_args()
    podman = shlex.split(options.podman)
    limits = shlex.split(options.limits)
    secrets: dict[tuple[str, str], str] = {}
    for item in options.secret:
        ref, _, value = item.partition("=")
        name, _, key = ref.partition("/")
        secrets[(name, key)] = value

    workloads = load_workloads(options.manifest)
    missing = {"migrations", "etl", "ingest"} - workloads.keys()
    if missing:
        raise SystemExit(f"rendered chart has no {sorted(missing)} workload")
    started: list[str] = []

    def cleanup() -> None:
        for name in started:
            run([*podman, "rm", "--force", "--time", "10", name])

    try:
        print("--- migrations Job")
        job = workloads["migrations"]
        for container in job.pod["containers"]:
            args = podman_args(job, container, secrets)
            result = run([*podman, "run", "--rm", *limits, *args], timeout=options.timeout)
            if result.returncode != 0:
                sys.stderr.write(result.stdout[-2000:] + result.stderr[-4000:])
                raise SystemExit(f"migrations container exited {result.returncode}")
            if "applied 0 migration" in result.stdout:
                raise SystemExit(f"the migrations Job found its database migrated: {result.stdout}")
            print(f"  {container['name']}: exit 0, {result.stdout.strip()[:160]}")

        for component in ("etl", "ingest"):
            workload = workloads[component]
            print(f"--- {workload.kind} {workload.name}")
            for container in workload.pod["containers"]:
                args = podman_args(workload, container, secrets)
                name = args[args.index("--name") + 1]
                run([*podman, "rm", "--force", name])
                result = run([*podman, "run", "--detach", *limits, *args])
                if result.returncode != 0:
                    raise SystemExit(f"{name} did not start: {result.stderr.strip()}")
                started.append(name)
        deadline = options.timeout
        for component in ("etl", "ingest"):
            for container in workloads[component].pod["containers"]:
                for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                    wait_probe(container, kind, deadline)

        print("--- one event, HTTP to ClickHouse")
        ingest = workloads["ingest"].pod["containers"][0]
        http_port = next(p["containerPort"] for p in ingest["ports"] if p.get("name") == "http")
        event_id = str(uuid.uuid4())
        event = {
            "event_type": "click",
            "event_id": event_id,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "user_id": "chart-pods",
            "country": "US",
            "device": "desktop",
            "element": "chart_pods_probe",
            "page_url": "https://example.com/chart-pods",
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{http_port}/api/v1/events",
            data=json.dumps({"event": event}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            print(f"  POST /api/v1/events: {response.status} {response.read().decode()}")
        waited = time.monotonic()
        while (count := clickhouse_count(options.clickhouse_http, options.database, event_id)) < 1:
            if time.monotonic() - waited > 60:
                raise SystemExit(f"event {event_id} not in ClickHouse after 60 s")
            time.sleep(0.5)
        print(f"  stored: {count} row(s) after {time.monotonic() - waited:.1f} s")
        print("chart-pods-test passed: migrations ran, ETL and ingest passed their probes,")
        print("one event went from HTTP through Kafka and the ETL into ClickHouse")
        return 0
    except BaseException:
        for name in started:
            logs = run([*podman, "logs", "--tail", "40", name])
            sys.stderr.write(f"--- {name} log\n{logs.stdout}{logs.stderr}")
        raise
    finally:
        cleanup()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SpecError as error:
        sys.exit(f"chart-pods: {error}")
