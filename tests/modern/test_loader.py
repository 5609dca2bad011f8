"""The real loader on modern ClickHouse: no insert block over the partition limit, no stall.

Modern ClickHouse refuses an insert block that touches more than 100 month
partitions (code 252, `max_partitions_per_insert_block`). Two guards keep the
ETL under it, and each is tested alone here, the other one switched off: the
API's time window (no accepted batch spans that many months) and the loader's
month splitting (a batch that does is inserted in blocks under the limit).
Bisection is the last resort behind both: it stores a refused block's rows
anyway, so these tests fail on any code 252 ClickHouse returned, not only on
rows lost.

The writer is the ETL's, aimed at chDB (`tests.modern.writer`). Kafka has no
place here: the consumer's commits and the dead-letter producer are recording
stand-ins (the real dead-letter topic is tested on 18.16, in
tests/integration/etl/test_rejected_rows.py).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import annotated_types
import orjson
import pytest
from aiokafka import TopicPartition

from clickstream import events
from clickstream.backoff import Backoff
from clickstream.config import EtlSettings, TimePolicySettings
from clickstream.errors import InvalidEvent, PoisonRecord
from clickstream.etl.batch import Batch
from clickstream.etl.dead_letters import DeadLetters
from clickstream.etl.loader import Loader
from clickstream.etl.metrics import EtlMetrics
from clickstream.etl.state import EtlState
from clickstream.etl.transform import to_row
from tests.event_bodies import event
from tests.modern.engine import ModernClickHouse
from tests.modern.ingest import RECEIVED_AT
from tests.modern.writer import ModernWriter

TOO_MANY_PARTITIONS = 252
CANNOT_PARSE_DATETIME = 41
P0 = TopicPartition("events", 0)
NO_SPLITTING = 10_000
MONTHS = 150


@dataclass
class Source:
    """The Kafka record a row came from (the loader's `Record`)."""

    offset: int
    value: bytes
    topic: str = P0.topic
    partition: int = P0.partition
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class RecordingConsumer:
    """The consumer's commit side, recorded: no Kafka in this tier."""

    def __init__(self) -> None:
        self.commits: list[dict[TopicPartition, int]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))

    def assignment(self) -> set[TopicPartition]:
        return {P0}

    def highwater(self, tp: TopicPartition) -> int | None:
        return None


@dataclass
class DeadLetter:
    value: bytes | None
    headers: dict[str, bytes]


class RecordingDeadLetterProducer:
    """The dead-letter topic, recorded: what the loader hands Kafka, headers included."""

    def __init__(self) -> None:
        self.sent: list[DeadLetter] = []

    async def send_and_wait(
        self, topic: str, value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        self.sent.append(DeadLetter(value, dict(headers)))


@dataclass
class Loaded:
    stored: int
    refusals_252: list[str]
    blocks: list[int]
    dead_letters: list[DeadLetter]
    commits: list[dict[TopicPartition, int]]


@pytest.fixture
def load(
    clickhouse: ModernClickHouse, migrate: Callable[[str], str], request: pytest.FixtureRequest
) -> Callable[[Sequence[bytes], int], Any]:
    """Rows -> one batch of partition 0 -> the real Loader -> chDB; what happened."""
    database = migrate(f"loader_{uuid.uuid4().hex[:8]}")

    async def run(rows: Sequence[bytes], max_months: int) -> Loaded:
        writer = ModernWriter(clickhouse, database)
        consumer, producer = RecordingConsumer(), RecordingDeadLetterProducer()
        metrics = EtlMetrics()
        state = EtlState(metrics)
        backoff = Backoff(0.001, 0.01)
        dead_letters = DeadLetters(
            producer, topic="events.dlq", backoff=backoff, stop=state.drain, metrics=metrics
        )
        loader = Loader(
            writer,
            consumer,
            dead_letters,
            max_months=max_months,
            backoff=backoff,
            state=state,
            metrics=metrics,
        )
        batch = Batch(max_rows=len(rows), max_wait_s=1.0)
        sources = [Source(offset, row) for offset, row in enumerate(rows)]
        months = [_month(row) for row in rows]
        batch.extend(P0, 0, len(rows) - 1, list(rows), sources, months, RECEIVED_AT, now=0.0)
        assert await loader.load(batch), "the loader gave the batch up"
        [(stored,)] = clickhouse.execute(f"SELECT count() FROM {database}.events FINAL")
        return Loaded(
            stored=stored,
            refusals_252=writer.refused_with(TOO_MANY_PARTITIONS),
            blocks=writer.blocks,
            dead_letters=producer.sent,
            commits=consumer.commits,
        )

    return run


def refused_252(loaded: Loaded) -> str:
    first = loaded.refusals_252[0].splitlines()[0][:160]
    return f"ClickHouse refused {len(loaded.refusals_252)} block(s) with code 252: {first}"


def month_start(months_from_received: int) -> datetime.datetime:
    month = RECEIVED_AT.year * 12 + RECEIVED_AT.month - 1 + months_from_received
    return datetime.datetime(month // 12, month % 12 + 1, 1, 12, tzinfo=datetime.UTC)


def spread_bodies(count: int, months: Sequence[int]) -> list[dict[str, Any]]:
    """`count` valid click bodies whose timestamps cycle through `months` (offsets from now)."""
    return [
        event(
            "click",
            user_id=f"user-{i}",
            timestamp=events.utc_text(month_start(months[i % len(months)])),
        )
        for i in range(count)
    ]


def envelopes_outside_any_window(bodies: Sequence[dict[str, Any]]) -> list[bytes]:
    """Envelopes as the API writes them, but with no time window: what an older API let through."""
    request = events.batch_request.validate_json(orjson.dumps({"events": list(bodies)}))
    return [
        events.to_record(event, event_id=events.event_id_of(event), received_at=RECEIVED_AT).value
        for event in request.events
    ]


def distinct_months(rows: Sequence[bytes]) -> int:
    return len({orjson.loads(row)["event_time"][:7] for row in rows})


def _upper_bound(name: str) -> int:
    [bound] = [
        rule.le
        for rule in TimePolicySettings.model_fields[name].metadata
        if isinstance(rule, annotated_types.Le)
    ]
    assert isinstance(bound, int)
    return bound


WIDEST_POLICY = TimePolicySettings(
    max_past_days=_upper_bound("max_past_days"), max_future_s=_upper_bound("max_future_s")
)


async def test_a_batch_over_150_months_is_split_under_the_limit(
    load: Callable[[Sequence[bytes], int], Any],
) -> None:
    """The splitting alone (no window): every block accepted at once, no code 252."""
    rows = envelopes_outside_any_window(spread_bodies(500, range(-MONTHS + 1, 1)))
    assert distinct_months(rows) == MONTHS

    loaded = await load(rows, EtlSettings().max_partitions_per_insert)

    assert loaded.refusals_252 == [], refused_252(loaded)
    assert loaded.stored == len(rows)
    assert len(loaded.blocks) == 2
    assert loaded.dead_letters == []
    assert loaded.commits == [{P0: len(rows)}]


async def test_without_splitting_bisection_stores_a_refused_150_month_batch(
    load: Callable[[Sequence[bytes], int], Any],
) -> None:
    """chDB's 252 on the whole batch is the block's fault: halves stored, nothing dead, committed."""
    rows = envelopes_outside_any_window(spread_bodies(500, range(-MONTHS + 1, 1)))

    loaded = await load(rows, NO_SPLITTING)

    # The months cycle through the batch: halves down to 125 rows still span over 100.
    half = [250, 125, 62, 63, 125, 62, 63]
    assert loaded.blocks == [500, *half, *half]
    assert len(loaded.refusals_252) == 7
    assert all("Too many partitions for single INSERT block" in m for m in loaded.refusals_252)
    assert loaded.stored == len(rows)
    assert loaded.dead_letters == []
    assert loaded.commits == [{P0: len(rows)}]


@pytest.mark.parametrize(
    "policy", [TimePolicySettings(), WIDEST_POLICY], ids=["default_window", "widest_window"]
)
async def test_the_time_window_keeps_any_accepted_batch_under_the_limit(
    load: Callable[[Sequence[bytes], int], Any], policy: TimePolicySettings
) -> None:
    """The window alone (no splitting): what the API accepts of 150 months fits one block.

    The clients' events span 150 months back to two months ahead, each sent
    in its own request; the API refuses those outside the window (422) and
    everything it accepted goes to ClickHouse as one block.
    """
    bodies = spread_bodies(500, range(-MONTHS + 3, 3))
    accepted: list[bytes] = []
    refused = 0
    for body in bodies:
        request = events.single_request.validate_json(orjson.dumps({"event": body}))
        try:
            [record] = events.records_for(
                request, received_at=RECEIVED_AT, user_agent=None, time_policy=policy
            )
        except InvalidEvent:
            refused += 1
            continue
        accepted.append(record.value)

    loaded = await load(accepted, NO_SPLITTING)

    assert loaded.refusals_252 == [], refused_252(loaded)
    assert loaded.blocks == [len(accepted)]
    assert loaded.stored == len(accepted)
    assert refused > 0
    assert distinct_months(accepted) > 50, "the window should let years of events through"


def refused_by_the_view(body: dict[str, Any]) -> bytes:
    """A v2 envelope the ETL's checks pass but the view's parseDateTimeBestEffort refuses.

    An ISO 8601 week date: Python's fromisoformat (the ETL's check) reads it,
    ClickHouse does not (CANNOT_PARSE_DATETIME).
    """
    [row] = envelopes_outside_any_window([body])
    return orjson.dumps({**orjson.loads(row), "event_time": "2024-W40-4T10:00:00Z"})


async def test_a_row_chdb_refuses_is_dead_lettered_with_its_code_and_the_rest_stored(
    load: Callable[[Sequence[bytes], int], Any],
) -> None:
    good = envelopes_outside_any_window([event("click", user_id=f"user-{i}") for i in range(9)])
    bad = refused_by_the_view(event("click", user_id="user-refused"))
    rows = [*good[:4], bad, *good[4:]]

    loaded = await load(rows, EtlSettings().max_partitions_per_insert)

    assert loaded.stored == len(good)
    [dead] = loaded.dead_letters
    assert dead.value == bad
    assert dead.headers["dlq_reason"] == b"clickhouse refused the row"
    assert dead.headers["dlq_error_code"] == str(CANNOT_PARSE_DATETIME).encode()
    assert b"Cannot read DateTime" in dead.headers["dlq_error_message"]
    assert dead.headers["dlq_offset"] == b"4"
    assert loaded.commits == [{P0: len(rows)}], "the partition moves past the refused row"


def _month(row: bytes) -> int:
    """The month the ETL's runner records for `row` (0 for one it would dead-letter)."""
    try:
        return to_row(row)[2]
    except PoisonRecord:
        return 0
