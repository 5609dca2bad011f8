"""Extract the rule groups of every PrometheusRule in rendered manifests into a file
`promtool check rules` and `promtool test rules` read.

usage: prometheus_rules.py RENDERED.yaml OUT.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def main(argv: list[str]) -> int:
    rendered, out = Path(argv[1]), Path(argv[2])
    groups = [
        group
        for doc in yaml.safe_load_all(rendered.read_text())
        if doc and doc.get("kind") == "PrometheusRule"
        for group in doc["spec"]["groups"]
    ]
    if not groups:
        print(f"{rendered}: no PrometheusRule", file=sys.stderr)
        return 1
    out.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
