"""The error vocabulary, by what the caller should do.

A `Rejected` means fix the input (4xx), `Unavailable` means retry later (503
with Retry-After); anything else is a bug (500). A raise site names what went
wrong (`BodyTooLarge`, `InvalidEvent`, ...); which HTTP status that is, is
decided in one table, `clickstream.api.errors`.
"""

from __future__ import annotations

from typing import Any

# FastAPI's 422 `detail` shape: one entry per problem, with `type`, `loc`, `msg`.
ErrorList = list[dict[str, Any]]


class ClickstreamError(Exception):
    """Base of the errors a caller is expected to handle."""


class Rejected(ClickstreamError):
    """The input is wrong; sending it again will not help. `detail` tells the sender why.

    Raise one of the subclasses: each names a different thing the sender got wrong.
    """

    def __init__(self, detail: str | ErrorList) -> None:
        super().__init__(detail)
        self.detail = detail


class BrokenBody(Rejected):
    """The body cannot be read as sent: bad Content-Length, bad gzip, or the client left."""


class BodyTimeout(Rejected):
    """The body did not arrive within the read deadline."""


class BodyTooLarge(Rejected):
    """The body is over the size limit, as declared, as sent or once decompressed."""


class UnsupportedMediaType(Rejected):
    """The Content-Type or Content-Encoding is not one the API reads."""


class UnknownWriteKey(Rejected):
    """Write keys are configured and the request names none of them."""


class InvalidEvent(Rejected):
    """The body was read but does not match the event contract."""

    def __init__(self, detail: ErrorList) -> None:
        super().__init__(detail)


class Unavailable(ClickstreamError):
    """Kafka cannot take the work now; the same request may succeed later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PoisonRecord(ClickstreamError):
    """A Kafka record the ETL can never load; it goes to the dead-letter topic.

    `kind` is a short label for metrics (undecodable, unknown_schema, invalid),
    `reason` the sentence for the record's headers and the logs. It never
    reaches HTTP.
    """

    def __init__(self, reason: str, kind: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
