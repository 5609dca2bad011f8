"""Each analyst view answers its business question on a hand-computed data set."""

from __future__ import annotations

from typing import Any

import pytest

from clickstream.config import Settings
from tests.integration.pipeline import (
    api_client,
    event,
    post_events,
    query,
    running_etl,
    wait_for_ids,
)

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


@pytest.fixture
async def loaded(settings: Settings) -> Settings:
    async with api_client(settings) as client, running_etl(settings):
        ids = await post_events(client, DATA)
        # A client retry of one event must not count twice in any view.
        await post_events(client, [DATA[0]])
        await wait_for_ids(settings, set(ids))
    return settings


async def view(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return await query(settings, sql.format(db=settings.clickhouse.database))


async def test_clicks_by_element(loaded: Settings) -> None:
    rows = await view(
        loaded,
        "SELECT element, page_url, clicks, users, anonymous_clicks FROM {db}.clicks_by_element "
        "ORDER BY element",
    )
    assert rows == [("film_card", "/films", 3, 2, 0), ("trailer", "/films/1", 1, 0, 1)]


async def test_page_views(loaded: Settings) -> None:
    rows = await view(
        loaded,
        "SELECT page_url, views, users, anonymous_views FROM {db}.page_views ORDER BY page_url",
    )
    assert rows == [("/films", 2, 2, 0), ("/films/1", 1, 1, 0), ("/home", 4, 2, 1)]


async def test_time_on_page(loaded: Settings) -> None:
    rows = await view(
        loaded,
        "SELECT page_url, views, timed_views, untimed_views, total_seconds, avg_seconds "
        "FROM {db}.time_on_page ORDER BY page_url",
    )
    assert rows == [
        ("/films", 2, 1, 1, 120, 120.0),
        ("/films/1", 1, 0, 1, 0, pytest.approx(float("nan"), nan_ok=True)),
        ("/home", 3, 2, 1, 90, 45.0),
    ]


async def test_search_filters(loaded: Settings) -> None:
    rows = await view(
        loaded,
        "SELECT filter_type, filter_value, uses, users FROM {db}.search_filters ORDER BY filter_type",
    )
    assert rows == [("genre", "comedy", 1, 1), ("title", "the star", 2, 1)]


async def test_quality_changes(loaded: Settings) -> None:
    rows = await view(
        loaded,
        "SELECT from_quality, to_quality, device, country, direction, changes "
        "FROM {db}.quality_changes ORDER BY from_quality",
    )
    assert rows == [
        ("1080p", "480p", "desktop", "DE", "down", 1),
        ("240p", "720p", "mobile", "US", "up", 1),
        ("4k", "1080p", "mobile", "US", "down", 1),
        ("auto", "720p", "mobile", "US", "unknown", 1),
    ]


async def test_videos_completed(loaded: Settings) -> None:
    rows = await view(
        loaded,
        "SELECT video_id, completions, users, avg_duration_s FROM {db}.videos_completed ORDER BY video_id",
    )
    assert rows == [("v1", 3, 2, 200.0), ("v2", 1, 0, 50.0)]
