"""Events built from the contract's examples, changed one field at a time."""

from __future__ import annotations

from typing import Any

from clickstream.events import EXAMPLES


def event(kind: str, *, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    """A copy of `EXAMPLES[kind]` without the `drop` fields and with `changes` applied."""
    body = {name: value for name, value in EXAMPLES[kind].items() if name not in drop}
    body.update(changes)
    return body
