"""The error vocabulary, by what the caller should do.

`Rejected` means fix the input (4xx), `Unavailable` means retry later (503
with Retry-After); anything else is a bug (500). The API maps them to HTTP in
one handler.
"""

from __future__ import annotations

from typing import Any


class ClickstreamError(Exception):
    """Base of the errors a caller is expected to handle."""


class Rejected(ClickstreamError):
    """The input is wrong; sending it again will not help."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class Unavailable(ClickstreamError):
    """A dependency cannot take the work now; the same request may succeed later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PoisonRecord(ClickstreamError):
    """A Kafka record the ETL can never load; it goes to the dead-letter topic.

    `kind` is a short label for metrics (undecodable, unknown_schema, invalid),
    `reason` the sentence for the record's headers and the logs.
    """

    def __init__(self, reason: str, kind: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
