"""Write manifests a real API server must refuse, each one object of a rendered chart changed.

These are mistakes the offline validation (JSON Schemas) cannot see: a CRD's CEL
rule, cross-field checks of core kinds, and strict decoding of unknown fields.
Each case is CASE.yaml plus CASE.expect, text the server's refusal must contain.

usage: refusal_cases.py RENDERED.yaml OUTDIR
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]


def find(objects: list[Manifest], kind: str, component: str) -> Manifest:
    for obj in objects:
        labels = obj["metadata"].get("labels", {})
        if obj["kind"] == kind and labels.get("app.kubernetes.io/component") == component:
            return copy.deepcopy(obj)
    raise SystemExit(f"no {kind} of component {component} in the rendering")


def keda_min_over_max(objects: list[Manifest]) -> Manifest:
    scaled = find(objects, "ScaledObject", "etl")
    scaled["spec"]["minReplicaCount"] = scaled["spec"]["maxReplicaCount"] + 1
    return scaled


def hpa_min_over_max(objects: list[Manifest]) -> Manifest:
    hpa = find(objects, "HorizontalPodAutoscaler", "ingest")
    hpa["spec"]["minReplicas"] = hpa["spec"]["maxReplicas"] + 1
    return hpa


def selector_mismatch(objects: list[Manifest]) -> Manifest:
    deployment = find(objects, "Deployment", "ingest")
    deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] = "api"
    return deployment


def unknown_field(objects: list[Manifest]) -> Manifest:
    deployment = find(objects, "Deployment", "etl")
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    return deployment


# name -> (mutation, what the server's message must contain)
CASES: dict[str, tuple[Callable[[list[Manifest]], Manifest], str]] = {
    "keda-cel-min-over-max": (
        keda_min_over_max,
        "minReplicaCount must be less than or equal to maxReplicaCount",
    ),
    "hpa-min-over-max": (hpa_min_over_max, "must be greater than or equal to `minReplicas`"),
    "deployment-selector-mismatch": (selector_mismatch, "`selector` does not match template"),
    "unknown-field": (unknown_field, 'unknown field "spec.template.spec.containers[0].imagePull'),
}


def main(argv: list[str]) -> int:
    rendered, out = Path(argv[1]), Path(argv[2])
    objects = [doc for doc in yaml.safe_load_all(rendered.read_text()) if doc]
    out.mkdir(parents=True, exist_ok=True)
    for name, (mutate, expect) in CASES.items():
        (out / f"{name}.yaml").write_text(yaml.safe_dump(mutate(objects), sort_keys=False))
        (out / f"{name}.expect").write_text(expect)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
