"""The analyst dashboards ship as a ConfigMap for Grafana's sidecar, only when asked for."""

from __future__ import annotations

import json
from collections.abc import Callable

from .rendering import Rendering

Render = Callable[..., Rendering]


def test_no_dashboards_by_default(render: Render) -> None:
    assert [
        c for c in render().all("ConfigMap") if c["metadata"]["name"].endswith("dashboards")
    ] == []


def test_dashboards_carry_the_sidecar_label_and_every_panel(render: Render) -> None:
    config_map = render(dashboards__enabled=True).get("ConfigMap", "clickstream-dashboards")

    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["analytics.json"])
    assert dashboard["panels"], "no panels"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["type"] == "grafana-clickhouse-datasource"
        assert panel["targets"][0]["rawSql"].startswith("SELECT ")
