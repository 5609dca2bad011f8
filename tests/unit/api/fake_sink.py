"""The unit tests' stand-in for the Kafka sink."""

from __future__ import annotations

from collections.abc import Sequence

from clickstream.errors import Unavailable
from clickstream.events import Record


class FakeSink:
    """Records every `send`; raises `failure` instead when one is set."""

    def __init__(self) -> None:
        self.ready = True
        self.failure: Unavailable | None = None
        self.sent: list[list[Record]] = []

    async def send(self, records: Sequence[Record]) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(list(records))

    @property
    def records(self) -> list[Record]:
        return [record for call in self.sent for record in call]
