"""The rollup workload: `clickstream rollup` runs once, as the migrator, and may reach ClickHouse."""

from __future__ import annotations

from collections.abc import Callable

from .rendering import Rendering
from .test_chart import container, env

Render = Callable[..., Rendering]


def test_one_rollup_job_loops_at_the_configured_interval(render: Render) -> None:
    deployment = render(rollup__intervalSeconds=120).component("Deployment", "rollup")

    assert container(deployment)["args"] == ["rollup", "--interval-s", "120"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}, "never two passes at once"


def test_the_rollup_job_writes_as_the_migrator(profile: Rendering) -> None:
    rollup_env = env(profile.component("Deployment", "rollup"))
    migrator_env = env(profile.get("Job"))

    assert rollup_env["CLICKSTREAM_CLICKHOUSE__USER"] == "clickstream_migrator"
    for name in ("USER", "PASSWORD", "HOST", "PORT", "DATABASE", "CLUSTER", "REPLICATED"):
        key = f"CLICKSTREAM_CLICKHOUSE__{name}"
        assert rollup_env[key] == migrator_env[key], key
    assert rollup_env["CLICKSTREAM_CLICKHOUSE__PASSWORD"][0] == "secret"


def test_clickhouse_admits_the_rollup_job(profile: Rendering) -> None:
    labels = profile.component("Deployment", "rollup")["spec"]["template"]["metadata"]["labels"]
    ingress = profile.get("NetworkPolicy", "clickstream-clickhouse")["spec"]["ingress"]
    admitted = [
        peer["podSelector"]["matchLabels"]
        for rule in ingress
        if {"port": 9000, "protocol": "TCP"} in rule.get("ports", [])
        for peer in rule["from"]
        if "podSelector" in peer
    ]
    assert any(selected.items() <= labels.items() for selected in admitted)
    egress = profile.get("NetworkPolicy", "clickstream-rollup")["spec"]["egress"]
    assert 9000 in {port["port"] for rule in egress for port in rule.get("ports", [])}


def test_the_rollup_job_can_be_left_out(render: Render) -> None:
    rendering = render(rollup__enabled=False)

    assert [d for d in rendering.all("Deployment") if "rollup" in d["metadata"]["name"]] == []
    assert [n for n in rendering.all("NetworkPolicy") if "rollup" in n["metadata"]["name"]] == []
