"""The analyst dashboard ships through the chart's dashboards ConfigMaps, only when asked for."""

from __future__ import annotations

import json
from collections.abc import Callable

from .rendering import Rendering

Render = Callable[..., Rendering]
NAME = "clickstream-dashboard-analytics"


def test_no_analyst_dashboard_by_default(render: Render) -> None:
    assert [c for c in render().all("ConfigMap") if c["metadata"]["name"] == NAME] == []


def test_the_analyst_dashboard_carries_the_sidecar_label_and_its_panels(render: Render) -> None:
    config_map = render(monitoring__dashboards__enabled=True).get("ConfigMap", NAME)

    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["analytics.json"])
    assert dashboard["panels"], "no panels"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["type"] == "grafana-clickhouse-datasource"
        assert panel["targets"][0]["rawSql"].startswith("SELECT ")
