"""Validate rendered Kubernetes manifests and skaffold.yaml offline.

Core kinds are checked with kubernetes-validate (strict: unknown fields fail)
for every Kubernetes version given; custom resources with the JSON Schemas in
the shared catalog (<schemas>/catalog/<group>/<kind>_<version>.json), or with
the openAPIV3Schema of a CRD found under a --crds folder (made strict the way
the catalog is). A kind none knows is an error: kubernetes-validate's own file
mode would let it pass silently.

usage: validate.py --schemas DIR [--crds DIR ...] [--kube-version 1.30 ...] [--skaffold FILE]
                   MANIFEST...
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


def strict(node: Any) -> Any:
    """A CRD's structural schema as a JSON Schema that, like the catalog's, refuses
    unknown fields where the CRD lists the fields and does not preserve unknown ones."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: strict(value) for key, value in node.items()}
    if result.pop("x-kubernetes-int-or-string", False):
        result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if result.pop("nullable", False) and "type" in result:
        result["type"] = [result["type"], "null"]
    if (
        "properties" in result
        and "additionalProperties" not in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


def crd_schemas(folders: list[Path]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> JSON Schema, from every CRD in the folders."""
    schemas = {}
    for folder in folders:
        if not folder.is_dir():
            raise SystemExit(f"{folder}: no such folder of CRDs")
        for path in sorted(folder.rglob("*.yaml")):
            for crd in load_documents(path):
                if crd.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def validate_manifest(
    doc: dict[str, Any],
    catalog: Path,
    crds: dict[tuple[str, str], dict[str, Any]],
    kube_versions: list[str],
) -> tuple[str, list[str]]:
    """Returns what the object was checked against and the errors found."""
    api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    crd_schema = custom_resource_schema(catalog, api_version, kind)
    if crd_schema is not None:
        schema = json.loads(crd_schema.read_text())
        return f"CRD schema {crd_schema.parent.name}/{crd_schema.name}", schema_errors(schema, doc)
    if (api_version, kind) in crds:
        return f"CRD {kind} {api_version}", schema_errors(crds[(api_version, kind)], doc)
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
    parser.add_argument("--crds", type=Path, action="append", default=[], help="folder of CRDs")
    parser.add_argument("--kube-version", action="append", dest="kube_versions")
    parser.add_argument("--skaffold", type=Path, help="skaffold.yaml to check")
    parser.add_argument("manifests", nargs="*", type=Path)
    args = parser.parse_args(argv)
    kube_versions = args.kube_versions or ["1.30"]
    catalog = args.schemas / "catalog"
    crds = crd_schemas(args.crds)

    failures = 0
    for path in args.manifests:
        counts: Counter[str] = Counter()
        for doc in load_documents(path):
            checked_against, errors = validate_manifest(doc, catalog, crds, kube_versions)
            name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            counts["CRD" if checked_against.startswith("CRD") else "core"] += 1
            for error in errors:
                print(f"{path}: {name}: {error}", file=sys.stderr)
            failures += bool(errors)
        print(
            f"{path}: {counts['core']} core objects (Kubernetes {', '.join(kube_versions)}), "
            f"{counts['CRD']} custom resources (catalog or CRD) checked"
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
