"""The operator conventions: PodMonitors, the PrometheusRule and Grafana dashboards.

They are off by default; switched on, every port a PodMonitor scrapes is one its
pods declare, and every clickstream series a rule or a panel reads is one the code
exports (the alert semantics are checked by promtool in `make k8s-rules-check`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from clickstream.api.metrics import ApiMetrics
from clickstream.etl.metrics import EtlMetrics

from .rendering import CHART, Manifest, RenderError, Rendering

Render = Callable[..., Rendering]

MONITORING_ON = {
    "monitoring__podMonitor__enabled": True,
    "monitoring__prometheusRule__enabled": True,
    "monitoring__dashboards__enabled": True,
}
DASHBOARD_FILES = sorted(p.name for p in (CHART / "dashboards").glob("*.json"))
ALERTS = {
    "ClickstreamConsumerLagHigh",
    "ClickstreamDeadLetterRatioHigh",
    "ClickstreamUnavailableRatioHigh",
    "ClickstreamFreshnessP99High",
    "ClickstreamReconciliationMismatch",
}


def exported_series(registry: CollectorRegistry) -> set[str]:
    """Series names as Prometheus stores them (counters gain _total, histograms _bucket...)."""
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}
    return {
        family.name + suffix for family in registry.collect() for suffix in suffixes[family.type]
    }


EXPORTED = exported_series(ApiMetrics().registry) | exported_series(EtlMetrics().registry)


def series_in(expr: str) -> set[str]:
    return set(re.findall(r"\bclickstream_[a-z_]+", expr))


def dashboard_configmaps(rendering: Rendering) -> list[Manifest]:
    return [
        c
        for c in rendering.all("ConfigMap")
        if c["metadata"]["labels"].get("app.kubernetes.io/component") == "dashboards"
    ]


def rules(rendering: Rendering) -> list[dict[str, Any]]:
    rule = rendering.get("PrometheusRule")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def test_monitoring_is_off_by_default(render: Render) -> None:
    for rendering in (render(), render("values-kind.yaml")):
        assert rendering.all("PodMonitor") == []
        assert rendering.all("PrometheusRule") == []
        assert dashboard_configmaps(rendering) == []


def test_each_part_switches_on_alone(render: Render) -> None:
    for key in MONITORING_ON:
        rendering = render(**{key: True})
        present = {
            "monitoring__podMonitor__enabled": bool(rendering.all("PodMonitor")),
            "monitoring__prometheusRule__enabled": bool(rendering.all("PrometheusRule")),
            "monitoring__dashboards__enabled": bool(dashboard_configmaps(rendering)),
        }
        assert present == {k: k == key for k in MONITORING_ON}


@pytest.mark.parametrize("component", ["ingest", "etl"])
def test_pod_monitor_scrapes_a_port_its_pods_declare(render: Render, component: str) -> None:
    rendering = render(**MONITORING_ON)
    monitor = rendering.component("PodMonitor", component)
    pods = rendering.component("Deployment", component)["spec"]["template"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pods["metadata"]["labels"].items()
    # The selector must not also match the other component's pods.
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == component
    ports = {p["name"] for c in pods["spec"]["containers"] for p in c.get("ports", [])}
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] in ports
    assert endpoint["path"] == "/metrics"


def test_prometheus_selector_labels_are_added(render: Render) -> None:
    rendering = render(
        **MONITORING_ON,
        monitoring__podMonitor__labels={"release": "kube-prometheus-stack"},
        monitoring__prometheusRule__labels={"release": "kube-prometheus-stack"},
        monitoring__prometheusRule__alertLabels={"team": "analytics"},
    )
    for monitor in rendering.all("PodMonitor"):
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    rule = rendering.get("PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    for alert in (r for r in rules(rendering) if "alert" in r):
        assert alert["labels"]["team"] == "analytics"
        assert alert["labels"]["severity"] in {"warning", "critical"}


def test_rules_alert_on_what_the_pipeline_exports(render: Render) -> None:
    all_rules = rules(render(**MONITORING_ON))
    assert {r["alert"] for r in all_rules if "alert" in r} == ALERTS
    for rule in all_rules:
        used = series_in(rule["expr"])
        assert used <= EXPORTED, f"{rule.get('alert') or rule['record']}: {used - EXPORTED}"


def test_rules_are_scoped_to_the_release_namespace(render: Render) -> None:
    for rule in rules(render(**MONITORING_ON)):
        selectors = re.findall(r"\bclickstream[a-z_:0-9]*(\{[^}]*\})?", rule["expr"])
        assert selectors and all('namespace="clickstream"' in s for s in selectors), rule["expr"]


def test_thresholds_come_from_values(render: Render) -> None:
    rendering = render(
        **MONITORING_ON,
        monitoring__prometheusRule__consumerLag={"records": 123, "for": "7m"},
    )
    (lag,) = [r for r in rules(rendering) if r.get("alert") == "ClickstreamConsumerLagHigh"]
    assert lag["expr"].endswith("> 123")
    assert lag["for"] == "7m"


def test_chart_refuses_a_duration_prometheus_cannot_read(render: Render) -> None:
    with pytest.raises(RenderError, match="/monitoring/prometheusRule/consumerLag/for"):
        render(monitoring__prometheusRule__consumerLag={"records": 1, "for": "10 minutes"})


def test_one_grafana_configmap_per_dashboard_file(render: Render) -> None:
    assert DASHBOARD_FILES, "no dashboards/*.json in the chart"
    configmaps = dashboard_configmaps(render(**MONITORING_ON))
    assert sorted(name for c in configmaps for name in c["data"]) == DASHBOARD_FILES
    uids = set()
    for configmap in configmaps:
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        ((name, text),) = configmap["data"].items()
        assert text == (CHART / "dashboards" / name).read_text().rstrip("\n")
        uids.add(json.loads(text)["uid"])
    assert len(uids) == len(configmaps), "dashboards must not share a uid"


def test_dashboard_folder_annotation_is_passed_on(render: Render) -> None:
    configmaps = dashboard_configmaps(
        render(**MONITORING_ON, monitoring__dashboards__annotations={"grafana_folder": "Ops"})
    )
    assert all(c["metadata"]["annotations"] == {"grafana_folder": "Ops"} for c in configmaps)


def test_pipeline_dashboard_reads_only_exported_series() -> None:
    dashboard = json.loads((CHART / "dashboards" / "clickstream-pipeline.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = set().union(*(series_in(e) for e in exprs))
    assert used <= EXPORTED, used - EXPORTED
    # accepted/s, 503/s, produce latency, lag, inserts, dead letters, freshness
    for series in (
        "clickstream_api_events_accepted_total",
        "clickstream_api_unavailable_total",
        "clickstream_api_produce_seconds_bucket",
        "clickstream_etl_consumer_lag",
        "clickstream_etl_rows_inserted_total",
        "clickstream_etl_dead_lettered_total",
        "clickstream_etl_freshness_seconds_bucket",
    ):
        assert series in used, f"no panel shows {series}"
