"""The suppression check on the ETL's hot path, and retention by whole months."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest

from clickstream import events
from clickstream.privacy import Suppression, expired_partitions, id_hash, ingest_database
from tests.unit.examples import event

ERASED = "user-erased-42"


def envelope(drop: tuple[str, ...] = (), **fields: Any) -> bytes:
    """The API's own envelope of a click, as Kafka carries it."""
    body = orjson.dumps({"event": event("click", drop=drop, **fields)})
    parsed = events.single_request.validate_json(body).event
    return events.to_record(
        parsed, event_id=uuid.uuid4(), received_at=datetime(2024, 10, 3, tzinfo=UTC)
    ).value


@pytest.fixture
def suppression() -> Suppression:
    return Suppression([("user_id", id_hash(ERASED))])


def test_an_erased_user_id_is_suppressed(suppression: Suppression) -> None:
    assert suppression.suppressed(envelope(user_id=ERASED))


@pytest.mark.parametrize("other", ["user-erased-4", "user-erased-420", "someone-else"])
def test_other_user_ids_pass(suppression: Suppression, other: str) -> None:
    assert not suppression.suppressed(envelope(user_id=other))


def test_an_event_without_a_user_passes(suppression: Suppression) -> None:
    assert not suppression.suppressed(envelope(user_id=None))


def test_the_kind_matters(suppression: Suppression) -> None:
    as_anonymous = Suppression([("anonymous_id", id_hash(ERASED))])
    assert not as_anonymous.suppressed(envelope(user_id=ERASED))


@pytest.mark.parametrize(
    "value",
    [
        # A foreign producer's spacing, escapes and key order: parsed in full.
        orjson.dumps({"schema_version": 1, "user_id": ERASED}, option=orjson.OPT_INDENT_2),
        b'{"schema_version":1,"user_id":"user-erased\\u002d42"}',
        b'{"page_url":"\\"user_id\\":\\"x\\"","user_id":"user-erased-42"}',
    ],
)
def test_unusual_but_equal_json_is_still_suppressed(suppression: Suppression, value: bytes) -> None:
    assert suppression.suppressed(value)


def test_a_key_pattern_inside_another_value_is_not_the_key(suppression: Suppression) -> None:
    value = orjson.dumps({"page_url": f'"user_id":"{ERASED}"', "user_id": "someone"})
    assert not suppression.suppressed(value)


@pytest.mark.parametrize("value", [None, b"", b"not json", b'{"user_id":null}', b"[1]"])
def test_junk_is_left_to_the_transform(suppression: Suppression, value: bytes | None) -> None:
    assert not suppression.suppressed(value)


def test_an_empty_list_suppresses_nothing_and_replace_swaps_it() -> None:
    suppression = Suppression()
    assert not suppression.suppressed(envelope(user_id=ERASED))
    suppression.replace([("user_id", id_hash(ERASED))])
    assert len(suppression) == 1
    assert suppression.suppressed(envelope(user_id=ERASED))
    suppression.replace([])
    assert not suppression.suppressed(envelope(user_id=ERASED))


def test_the_hash_is_sha256_hex() -> None:
    assert id_hash("a") == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def test_the_ingest_database_sits_beside_the_main_one() -> None:
    assert ingest_database("clickstream") == "clickstream_ingest"
    assert ingest_database("clickstream_ingest") == "clickstream_ingest"


@pytest.mark.parametrize(
    ("days", "today", "expired"),
    [
        (30, date(2024, 3, 15), ["202312", "202401"]),
        (14, date(2024, 3, 15), ["202312", "202401", "202402"]),
        # Feb 29th is only 15 days back: February stays whole.
        (15, date(2024, 3, 15), ["202312", "202401"]),
        (365, date(2024, 3, 15), []),
        (1, date(2025, 1, 2), ["202312", "202401", "202402", "202403", "202412"]),
    ],
)
def test_retention_drops_only_months_entirely_past_the_cutoff(
    days: int, today: date, expired: list[str]
) -> None:
    partitions = ["202403", "202401", "202402", "202312", "202412", "202501"]
    assert expired_partitions(partitions, days=days, today=today) == expired


def test_a_new_list_forgets_the_verdicts_of_the_old_one() -> None:
    """The ETL remembers verdicts per id; an id erased later must not stay 'clean'."""
    suppression = Suppression([("user_id", id_hash("someone-else"))])
    value = envelope(user_id=ERASED)
    assert not suppression.suppressed(value)
    assert not suppression.suppressed(value)
    suppression.replace([("user_id", id_hash("someone-else")), ("user_id", id_hash(ERASED))])
    assert suppression.suppressed(value)
