"""The time policy: clock correction by sent_at, then a bounded window around receipt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from clickstream import events
from clickstream.api.errors import status_of
from clickstream.config import ApiSettings, TimePolicySettings
from clickstream.errors import InvalidEvent, Rejected

from .examples import event

RECEIVED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = TimePolicySettings(max_future_s=3_600, max_past_days=10)
NOW = "2026-12-01T12:00:00Z"


def single(body: dict[str, Any], sent_at: str | None = None) -> events.EventRequest:
    request: dict[str, Any] = {"event": body}
    if sent_at is not None:
        request["sent_at"] = sent_at
    parsed: events.EventRequest = events.single_request.validate_json(orjson.dumps(request))
    return parsed


def batch(bodies: list[dict[str, Any]], sent_at: str | None = None) -> events.BatchRequest:
    request: dict[str, Any] = {"events": bodies}
    if sent_at is not None:
        request["sent_at"] = sent_at
    parsed: events.BatchRequest = events.batch_request.validate_json(orjson.dumps(request))
    return parsed


def envelopes(
    request: events.EventRequest | events.BatchRequest, policy: TimePolicySettings = POLICY
) -> list[dict[str, Any]]:
    records = events.records_for(
        request, received_at=RECEIVED_AT, user_agent=None, time_policy=policy
    )
    return [orjson.loads(record.value) for record in records]


def rejected(request: events.EventRequest | events.BatchRequest) -> list[dict[str, Any]]:
    with pytest.raises(Rejected) as error:
        events.records_for(request, received_at=RECEIVED_AT, user_agent=None, time_policy=POLICY)
    assert isinstance(error.value, InvalidEvent)
    assert status_of(error.value) == 422
    detail = error.value.detail
    assert isinstance(detail, list)
    return detail


def test_without_sent_at_the_event_time_is_the_timestamp() -> None:
    (got,) = envelopes(single(event("click", timestamp="2026-12-01T11:00:00Z")))

    assert got["timestamp"] == got["event_time"] == "2026-12-01T11:00:00.000000Z"
    assert "sent_at" not in got


def test_sent_at_corrects_the_event_time_by_the_clients_clock_error() -> None:
    # The client's clock is 2 hours behind: it sent at 10:00 what arrived at 12:00.
    request = single(event("click", timestamp="2026-12-01T09:59:30Z"), sent_at="2026-12-01T10:00Z")

    (got,) = envelopes(request)

    assert got["event_time"] == "2026-12-01T11:59:30.000000Z"
    assert got["timestamp"] == "2026-12-01T09:59:30.000000Z", "the client's own time is kept"
    assert got["sent_at"] == "2026-12-01T10:00:00.000000Z"


def test_a_retry_with_another_latency_gets_the_same_event_time() -> None:
    # The same event (clock 2 hours behind), sent twice: the second request took
    # 3.4 s longer to arrive. Both must be stored at one event_time, or the
    # replacing engine keeps two rows for one event_id.
    body = event("click", timestamp="2026-12-01T09:59:30Z")
    first = single(body, sent_at="2026-12-01T10:00:00.3Z")
    retry = single(body, sent_at="2026-12-01T09:59:56.9Z")

    (a,) = envelopes(first)
    (b,) = envelopes(retry)

    assert a["event_time"] == b["event_time"] == "2026-12-01T11:59:30.000000Z"


def test_a_skew_within_latency_is_no_correction() -> None:
    request = single(
        event("click", timestamp="2026-12-01T11:59:58Z"), sent_at="2026-12-01T11:59:58.5Z"
    )

    (got,) = envelopes(request)

    assert got["event_time"] == got["timestamp"] == "2026-12-01T11:59:58.000000Z"


def test_sent_at_in_another_zone_is_the_same_instant() -> None:
    request = single(event("click", timestamp=NOW), sent_at="2026-12-01T15:00:00+03:00")

    (got,) = envelopes(request)

    assert got["event_time"] == "2026-12-01T12:00:00.000000Z"
    assert got["sent_at"] == "2026-12-01T12:00:00.000000Z"


def test_a_clock_years_off_is_corrected_into_the_window() -> None:
    request = single(event("click", timestamp="2001-01-01T00:00:00Z"), sent_at="2001-01-01T00:01Z")

    (got,) = envelopes(request)

    assert got["event_time"] == "2026-12-01T11:59:00.000000Z"


def test_every_event_of_a_batch_gets_the_same_correction() -> None:
    bodies = [event("click", timestamp=f"2026-12-01T10:0{i}:00Z") for i in range(3)]

    got = envelopes(batch(bodies, sent_at="2026-12-01T10:05:00Z"))

    assert [e["event_time"] for e in got] == [
        "2026-12-01T11:55:00.000000Z",
        "2026-12-01T11:56:00.000000Z",
        "2026-12-01T11:57:00.000000Z",
    ]
    assert {e["sent_at"] for e in got} == {"2026-12-01T10:05:00.000000Z"}


@pytest.mark.parametrize(
    "timestamp",
    ["2026-11-21T12:00:00Z", "2026-12-01T13:00:00Z"],
    ids=["earliest", "latest"],
)
def test_the_window_edges_are_accepted(timestamp: str) -> None:
    assert envelopes(single(event("click", timestamp=timestamp)))


@pytest.mark.parametrize(
    "timestamp",
    ["2026-11-21T11:59:59.999999Z", "2026-12-01T13:00:00.000001Z", "2099-01-01T00:00:00Z"],
    ids=["too-old", "too-far-ahead", "decades-ahead"],
)
def test_a_time_outside_the_window_is_a_422_naming_the_timestamp(timestamp: str) -> None:
    (error,) = rejected(single(event("click", timestamp=timestamp)))

    assert error["loc"] == ["body", "event", "click", "timestamp"]
    assert error["type"] == "timestamp_outside_window"
    assert error["ctx"] == {
        "earliest": "2026-11-21T12:00:00.000000Z",
        "latest": "2026-12-01T13:00:00.000000Z",
    }
    assert "2026-11-21T12:00:00.000000Z" in error["msg"]


def test_sent_at_cannot_push_an_event_outside_the_window() -> None:
    # A valid timestamp, but a sent_at a year early would move it a year ahead.
    request = single(event("page_view", timestamp=NOW), sent_at="2025-12-01T12:00:00Z")

    (error,) = rejected(request)

    assert error["loc"] == ["body", "event", "page_view", "timestamp"]
    assert "corrected by sent_at: 2027-12-01T12:00:00.000000Z" in error["msg"]
    assert error["input"] == "2026-12-01T12:00:00.000000Z"


def test_a_batch_is_refused_whole_naming_each_event_outside() -> None:
    bodies = [
        event("click", timestamp=NOW),
        event("click", timestamp="2020-01-01T00:00:00Z"),
        event("video_complete", timestamp=NOW),
        event("video_complete", event_type="film_watched", timestamp="2030-01-01T00:00:00Z"),
    ]

    errors = rejected(batch(bodies))

    assert [e["loc"] for e in errors] == [
        ["body", "events", 1, "click", "timestamp"],
        ["body", "events", 3, "film_watched", "timestamp"],
    ]


def test_at_most_50_errors_are_reported() -> None:
    bodies = [event("click", timestamp="2020-01-01T00:00:00Z")] * 120

    assert len(rejected(batch(bodies))) == events.MAX_REPORTED_ERRORS


def test_the_default_window_accepts_the_contract_examples_today() -> None:
    # The examples are dated 2024-10-03; "today" is when this was written. They
    # stay valid under the default five years back until October 2029.
    default = ApiSettings().time_policy
    request = batch(list(events.EXAMPLES.values()))

    assert len(envelopes(request, default)) == len(events.EXAMPLES)
    with pytest.raises(Rejected):
        events.records_for(
            request,
            received_at=datetime(2029, 10, 4, tzinfo=UTC),
            user_agent=None,
            time_policy=default,
        )


def test_the_default_window_is_a_day_ahead_and_about_five_years_back() -> None:
    default = TimePolicySettings()

    assert timedelta(seconds=default.max_future_s) == timedelta(days=1)
    assert default.max_past_days == 1826


@pytest.mark.parametrize(
    "settings", [{"max_past_days": 2_801}, {"max_future_s": 30 * 86_400 + 1}, {"max_past_days": 0}]
)
def test_a_window_wider_than_clickhouse_can_insert_is_refused(settings: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        TimePolicySettings(**settings)


def test_text_orjson_cannot_write_is_a_422_not_a_crash() -> None:
    # The JSON parser refuses a lone surrogate today; this guards the encoder
    # should a parser or a model ever let one through.
    parsed = single(event("search_filter_use", timestamp=NOW))
    request = parsed.model_copy(
        update={"event": parsed.event.model_copy(update={"filter_value": "\ud800"})}
    )

    (error,) = rejected(request)

    assert error["type"] == "string_unicode"
