"""Render helm/clickstream with the helm binary and look objects up.

`make test` and `make k8s-chart-test` pass HELM; otherwise the binary `make` caches under
.cache/bin is used, and the tests fail when there is none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "clickstream"
KUBE_VERSION = os.environ.get("K8S_KUBE_VERSION", "1.30.0")

Manifest = dict[str, Any]


class RenderError(Exception):
    pass


def helm_binary() -> str | None:
    candidates = [os.environ.get("HELM"), str(ROOT / ".cache" / "bin" / "helm"), "helm"]
    for candidate in candidates:
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


class Rendering:
    """The objects of one `helm template`, with lookups by kind and name."""

    def __init__(self, objects: list[Manifest]) -> None:
        self.objects = objects

    def all(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str | None = None) -> Manifest:
        matches = [o for o in self.all(kind) if name is None or o["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
        return matches[0]

    def component(self, kind: str, component: str) -> Manifest:
        matches = [
            o
            for o in self.all(kind)
            if o["metadata"]["labels"].get("app.kubernetes.io/component") == component
        ]
        assert len(matches) == 1, f"expected one {kind} for {component}, found {len(matches)}"
        return matches[0]


def render_chart(*values_files: str, **values: Any) -> Rendering:
    helm = helm_binary()
    if helm is None:
        pytest.fail(
            "no helm binary: run the chart tests through `make test` or `make k8s-chart-test`"
        )
    args = [helm, "template", "clickstream", str(CHART), "--namespace", "clickstream"]
    args += ["--kube-version", KUBE_VERSION]
    for values_file in values_files:
        args += ["-f", str(CHART / values_file)]
    for key, value in values.items():
        args += ["--set-json", f"{key.replace('__', '.')}={json.dumps(value)}"]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RenderError(result.stderr)
    return Rendering([doc for doc in yaml.safe_load_all(result.stdout) if doc])
