"""Valid HTTP event bodies for tests, built from the API's own examples."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from clickstream.events import EXAMPLES


def event(kind: str = "click", *, user_id: str | None = "u-1", **fields: Any) -> dict[str, Any]:
    """A valid event of `kind` with a fresh event_id, overridable field by field."""
    body = copy.deepcopy(EXAMPLES[kind])
    body["user_id"] = user_id
    body["event_id"] = str(uuid.uuid4())
    body.update(fields)
    return body
