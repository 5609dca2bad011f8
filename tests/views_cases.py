"""The analyst views' hand-computed data set and expected answers, one body for every engine.

The integration tier sends `DATA` (then `RETRIED`) through the real API, Kafka
and ETL into ClickHouse 18.16; the modern tier (tests/modern) inserts the same
events as envelopes into chDB. Both run every `VIEW_CASES` query and compare
with the same rows, so a view that answers differently on modern ClickHouse
fails there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from clickstream.events import EVENT_TYPES
from tests.event_bodies import event

A, B, ANON = "user-a", "user-b", None


def at(clock: str) -> str:
    return f"2024-10-03T{clock}Z"


DATA: list[dict[str, Any]] = [
    # clicks
    event("click", user_id=A, element="film_card", page_url="/films", timestamp=at("09:00:00")),
    event("click", user_id=A, element="film_card", page_url="/films", timestamp=at("09:00:05")),
    event("click", user_id=B, element="film_card", page_url="/films", timestamp=at("09:01:00")),
    event("click", user_id=ANON, element="trailer", page_url="/films/1", timestamp=at("09:02:00")),
    # page views: A stays 30 s on /home, 120 s on /films, then leaves for an hour
    event("page_view", user_id=A, page_url="/home", referrer_url=None, timestamp=at("10:00:00")),
    event("page_view", user_id=A, page_url="/films", timestamp=at("10:00:30")),
    event("page_view", user_id=A, page_url="/films/1", timestamp=at("10:02:30")),
    event("page_view", user_id=A, page_url="/home", timestamp=at("11:00:00")),
    event("page_view", user_id=B, page_url="/home", timestamp=at("10:00:00")),
    event("page_view", user_id=B, page_url="/films", timestamp=at("10:01:00")),
    event("page_view", user_id=ANON, page_url="/home", timestamp=at("10:05:00")),
    # search filters
    event("search_filter_use", user_id=A, filter_type="title", filter_value="the star"),
    event("search_filter_use", user_id=A, filter_type="title", filter_value="the star"),
    event("search_filter_use", user_id=B, filter_type="genre", filter_value="comedy"),
    # quality changes
    event("quality_change", user_id=A, from_quality="240p", to_quality="720p"),
    event(
        "quality_change",
        user_id=B,
        device="desktop",
        country="DE",
        from_quality="1080p",
        to_quality="480p",
    ),
    event("quality_change", user_id=A, from_quality="auto", to_quality="720p"),
    event("quality_change", user_id=A, from_quality="4k", to_quality="1080p"),
    # films watched to the end (A twice)
    event("video_complete", user_id=A, video_id="v1", duration=100),
    event("video_complete", user_id=B, video_id="v1", duration=200),
    event("video_complete", user_id=A, video_id="v1", duration=300),
    event("video_complete", user_id=ANON, video_id="v2", duration=50),
]

# A client retry (same event_id) must not count twice in any view: one of each type
# the views read (the event types no view reads yet have no rows in DATA).
RETRIED: list[dict[str, Any]] = [
    next(body for body in DATA if body["event_type"] == kind)
    for kind in EVENT_TYPES
    if any(body["event_type"] == kind for body in DATA)
]


@dataclass(frozen=True)
class ViewCase:
    view: str
    # `{db}` is the database the test loaded.
    sql: str
    expected: list[tuple[Any, ...]]


VIEW_CASES = [
    ViewCase(
        "clicks_by_element",
        "SELECT element, page_url, clicks, users, anonymous_clicks FROM {db}.clicks_by_element "
        "ORDER BY element",
        [("film_card", "/films", 3, 2, 0), ("trailer", "/films/1", 1, 0, 1)],
    ),
    ViewCase(
        "page_views",
        "SELECT page_url, views, users, anonymous_views FROM {db}.page_views ORDER BY page_url",
        [("/films", 2, 2, 0), ("/films/1", 1, 1, 0), ("/home", 4, 2, 1)],
    ),
    ViewCase(
        "time_on_page",
        "SELECT page_url, views, timed_views, untimed_views, total_seconds, avg_seconds "
        "FROM {db}.time_on_page ORDER BY page_url",
        [
            ("/films", 2, 1, 1, 120, 120.0),
            ("/films/1", 1, 0, 1, 0, pytest.approx(float("nan"), nan_ok=True)),
            ("/home", 3, 2, 1, 90, 45.0),
        ],
    ),
    ViewCase(
        "search_filters",
        "SELECT filter_type, filter_value, uses, users FROM {db}.search_filters ORDER BY filter_type",
        [("genre", "comedy", 1, 1), ("title", "the star", 2, 1)],
    ),
    ViewCase(
        "quality_changes",
        "SELECT from_quality, to_quality, device, country, direction, changes "
        "FROM {db}.quality_changes ORDER BY from_quality",
        [
            ("1080p", "480p", "desktop", "DE", "down", 1),
            ("240p", "720p", "mobile", "US", "up", 1),
            ("4k", "1080p", "mobile", "US", "down", 1),
            ("auto", "720p", "mobile", "US", "unknown", 1),
        ],
    ),
    ViewCase(
        "videos_completed",
        "SELECT video_id, completions, users, avg_duration_s FROM {db}.videos_completed "
        "ORDER BY video_id",
        [("v1", 3, 2, 200.0), ("v2", 1, 0, 50.0)],
    ),
]
