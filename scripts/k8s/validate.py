"""Validate rendered Kubernetes manifests and skaffold.yaml offline.

Core kinds are checked with kubernetes-validate (strict: unknown fields fail)
for every Kubernetes version given; custom resources with the JSON Schemas in
the shared catalog (<schemas>/catalog/<group>/<kind>_<version>.json). A kind
neither knows is an error: kubernetes-validate's own file mode would let it
pass silently.

usage: validate.py --schemas DIR [--kube-version 1.30 ...] [--skaffold FILE] MANIFEST...
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml


def load_documents(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    messages = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        # For anyOf/oneOf (skaffold's schema is one branch per version) the
        # closest branch's error says more than "is not valid under any".
        if error.context:
            error = jsonschema.exceptions.best_match(error.context)
        path = "/".join(str(p) for p in error.absolute_path) or "<root>"
        messages.append(f"{path}: {error.message}")
    return messages


def custom_resource_schema(catalog: Path, api_version: str, kind: str) -> Path | None:
    if "/" not in api_version:
        return None
    group, version = api_version.split("/", 1)
    path = catalog / group / f"{kind.lower()}_{version}.json"
    return path if path.exists() else None


def validate_manifest(
    doc: dict[str, Any], catalog: Path, kube_versions: list[str]
) -> tuple[str, list[str]]:
    """Returns what the object was checked against and the errors found."""
    api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    crd_schema = custom_resource_schema(catalog, api_version, kind)
    if crd_schema is not None:
        schema = json.loads(crd_schema.read_text())
        return f"CRD schema {crd_schema.parent.name}/{crd_schema.name}", schema_errors(schema, doc)
    errors = []
    for version in kube_versions:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"no schema for {api_version} {kind} (Kubernetes {version} or catalog)")
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.absolute_path) or "<root>"
            errors.append(f"Kubernetes {version}: {path}: {e.message}")
    return f"Kubernetes {', '.join(kube_versions)}", errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=Path, required=True, help="the shared k8s-schemas dir")
    parser.add_argument("--kube-version", action="append", dest="kube_versions")
    parser.add_argument("--skaffold", type=Path, help="skaffold.yaml to check")
    parser.add_argument("manifests", nargs="*", type=Path)
    args = parser.parse_args(argv)
    kube_versions = args.kube_versions or ["1.30"]
    catalog = args.schemas / "catalog"

    failures = 0
    for path in args.manifests:
        counts: Counter[str] = Counter()
        for doc in load_documents(path):
            checked_against, errors = validate_manifest(doc, catalog, kube_versions)
            name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            counts["CRD" if checked_against.startswith("CRD") else "core"] += 1
            for error in errors:
                print(f"{path}: {name}: {error}", file=sys.stderr)
            failures += bool(errors)
        print(
            f"{path}: {counts['core']} core objects (Kubernetes {', '.join(kube_versions)}), "
            f"{counts['CRD']} custom resources (catalog) checked"
        )

    if args.skaffold:
        config = load_documents(args.skaffold)
        for doc in config:
            schema_path = args.schemas / "skaffold" / f"{doc['apiVersion'].split('/')[-1]}.json"
            if not schema_path.exists():
                print(f"{args.skaffold}: no schema for {doc['apiVersion']}", file=sys.stderr)
                failures += 1
                continue
            errors = schema_errors(json.loads(schema_path.read_text()), doc)
            for error in errors:
                print(f"{args.skaffold}: {error}", file=sys.stderr)
            failures += bool(errors)
            print(f"{args.skaffold}: checked against {schema_path.name}")

    if failures:
        print(f"{failures} invalid object(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
