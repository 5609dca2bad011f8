"""What the frontend POSTs: the event models, their bounds and examples."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
)

# Bounds: generous for real frontends, small enough that one event stays a
# few KiB (browsers cap URLs near 2 KiB in practice; 8 KiB covers the rest).
Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=8192)]


def _whole_number(value: Any) -> Any:
    """JSON has one number type: 3600.0 is the integer 3600 (as JSON Schema says)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Field before the validator: so the JSON Schema says minimum/maximum (after it,
# pydantic can only emit its own ge/le keys, which schema tools ignore).
Seconds = Annotated[int, Field(ge=0, le=10_000_000), BeforeValidator(_whole_number)]
# A position or length in a video, fractions allowed; the bound is Seconds'.
VideoSeconds = Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)]
EngagedMs = Annotated[int, Field(ge=0, le=86_400_000), BeforeValidator(_whole_number)]
PlayedMs = Annotated[int, Field(ge=0, le=3_600_000), BeforeValidator(_whole_number)]
Percent = Annotated[int, Field(ge=0, le=100), BeforeValidator(_whole_number)]

_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _as_utc(value: datetime) -> datetime:
    """Timestamps without a zone are taken as UTC; all are stored in UTC."""
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is past datetime.max in UTC
        raise ValueError("timestamp must be between 2000-01-01 and 2100-01-01") from None
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("timestamp must be between 2000-01-01 and 2100-01-01")
    return value


Timestamp = Annotated[datetime, AfterValidator(_as_utc)]


class BaseEvent(BaseModel):
    # strict: "3600" is not an int and 1 is not a string; extra keys are errors.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    event_id: Annotated[
        uuid.UUID | None,
        Field(description="Your id for this event: a retry with the same id is stored once."),
    ] = None
    timestamp: Annotated[
        Timestamp,
        Field(
            description="When it happened, by the client's clock: RFC 3339; without a zone it "
            "is taken as UTC. Must lie in [2000-01-01, 2100-01-01), and, after the correction "
            "by the request's `sent_at`, within the accepted window around the server's "
            "receipt time (default: 1826 days, about five years, back; 1 day ahead); it is stored unchanged too."
        ),
    ]
    user_id: Name | None
    country: Name
    device: Name
    anonymous_id: Annotated[
        Name | None,
        Field(description="The visitor's id before (or without) a login, e.g. from a cookie."),
    ] = None
    session_id: Annotated[Name | None, Field(description="The visit this event belongs to.")] = None
    page_view_id: Annotated[
        Name | None,
        Field(description="The page view this event happened in: links engagement to its view."),
    ] = None


class Click(BaseEvent):
    event_type: Literal["click"]
    element: Text
    page_url: Url


class PageView(BaseEvent):
    event_type: Literal["page_view"]
    page_url: Url
    referrer_url: Url | None = None


class SearchFilterUse(BaseEvent):
    event_type: Literal["search_filter_use"]
    filter_type: Name
    filter_value: Text


class QualityChange(BaseEvent):
    event_type: Literal["quality_change"]
    video_id: Name
    from_quality: Name
    to_quality: Name
    current_time: Seconds


class VideoComplete(BaseEvent):
    # The original requirements name this event both ways; it is stored as
    # video_complete.
    event_type: Literal["video_complete", "film_watched"]
    video_id: Name
    duration: Seconds


class PageEngagement(BaseEvent):
    """How long a page was looked at and how far it was scrolled, sent when it is left."""

    event_type: Literal["page_engagement"]
    page_view_id: Name
    page_url: Url
    engaged_ms: Annotated[EngagedMs, Field(description="Time the page was visible and active.")]
    max_scroll_pct: Annotated[Percent, Field(description="The deepest scroll, in % of the page.")]


class _Playback(BaseEvent):
    video_id: Name
    playback_id: Annotated[Name, Field(description="One viewing: from start to its last beat.")]
    position_s: Annotated[VideoSeconds, Field(description="Where in the video, in seconds.")]
    quality: Name | None = None
    duration_s: Annotated[
        VideoSeconds | None,
        Field(description="The video's length in seconds, for drop-off curves."),
    ] = None


class VideoStart(_Playback):
    event_type: Literal["video_start"]


class VideoHeartbeat(_Playback):
    """Sent every 10 s while a video plays."""

    event_type: Literal["video_heartbeat"]
    played_ms: Annotated[PlayedMs, Field(description="Playing time since the previous beat.")]


Event = Annotated[
    Click
    | PageView
    | SearchFilterUse
    | QualityChange
    | VideoComplete
    | PageEngagement
    | VideoStart
    | VideoHeartbeat,
    Field(discriminator="event_type"),
]

_EXAMPLE_COMMON: dict[str, Any] = {
    "timestamp": "2024-10-03T14:30:00Z",
    "user_id": "956939f6-7a98-4bf1-9949-500e5dd20fa0",
    "country": "US",
    "device": "mobile",
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "click": {
        "event_type": "click",
        **_EXAMPLE_COMMON,
        "element": "button_submit",
        "page_url": "https://example.com/submit",
    },
    "page_view": {
        "event_type": "page_view",
        **_EXAMPLE_COMMON,
        "page_url": "https://example.com/submit",
        "referrer_url": "https://example.com/redirect",
    },
    "search_filter_use": {
        "event_type": "search_filter_use",
        **_EXAMPLE_COMMON,
        "filter_type": "title",
        "filter_value": "the star",
    },
    "quality_change": {
        "event_type": "quality_change",
        **_EXAMPLE_COMMON,
        "video_id": "8bcb67fe-bde6-4645-af85-6664a9298b8c",
        "from_quality": "240p",
        "to_quality": "720p",
        "current_time": 3600,
    },
    "video_complete": {
        "event_type": "video_complete",
        **_EXAMPLE_COMMON,
        "video_id": "8bcb67fe-bde6-4645-af85-6664a9298b8c",
        "duration": 3660,
    },
    "page_engagement": {
        "event_type": "page_engagement",
        **_EXAMPLE_COMMON,
        "anonymous_id": "a7f3c2d1-5e8b-4c6a-9f0e-1b2c3d4e5f60",
        "session_id": "s-2024-10-03-0001",
        "page_view_id": "pv-7d1e9c",
        "page_url": "https://example.com/films/the-star",
        "engaged_ms": 48_250,
        "max_scroll_pct": 85,
    },
    "video_start": {
        "event_type": "video_start",
        **_EXAMPLE_COMMON,
        "session_id": "s-2024-10-03-0001",
        "video_id": "8bcb67fe-bde6-4645-af85-6664a9298b8c",
        "playback_id": "pb-4f2a91",
        "position_s": 0,
        "quality": "720p",
        "duration_s": 3660,
    },
    "video_heartbeat": {
        "event_type": "video_heartbeat",
        **_EXAMPLE_COMMON,
        "session_id": "s-2024-10-03-0001",
        "video_id": "8bcb67fe-bde6-4645-af85-6664a9298b8c",
        "playback_id": "pb-4f2a91",
        "position_s": 612.5,
        "quality": "720p",
        "duration_s": 3660,
        "played_ms": 10_000,
    },
}


_SENT_AT = Field(
    description="When the client sent this request, by its own clock (RFC 3339; without a zone "
    "UTC). With it, each event is stored at `timestamp + (received_at - sent_at)`: a client "
    "clock that is off by hours still gives the right time, as long as `timestamp` was read "
    "from the same clock. The corrected time must lie between `max_past_days` (default 1826, about five years) "
    "before and `max_future_s` (default 86400) after the server's receipt time, else 422."
)


class EventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    event: Event
    sent_at: Annotated[Timestamp | None, _SENT_AT] = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    events: Annotated[list[Event], Field(min_length=1, max_length=500)]
    sent_at: Annotated[Timestamp | None, _SENT_AT] = None


single_request = TypeAdapter(EventRequest)
batch_request = TypeAdapter(BatchRequest)


class EventAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    event_id: uuid.UUID


class BatchAccepted(BaseModel):
    accepted: int
    event_ids: list[uuid.UUID]
