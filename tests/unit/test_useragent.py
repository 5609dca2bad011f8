"""User-Agent enrichment: browser, OS, device class and bot flag from the header alone."""

from __future__ import annotations

from typing import Any

import pytest
import ua_parser

from clickstream import useragent
from clickstream.useragent import DEVICE_CLASSES, Client, client_of

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize(
    ("header", "device_class"),
    [
        (IPHONE, "mobile"),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36",
            "mobile",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
            "tablet",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
            "tablet",
        ),
        (WINDOWS_CHROME, "desktop"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
            "desktop",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
            "desktop",
        ),
        (
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
            "tv",
        ),
        (
            "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/79.0.3945.79 Safari/537.36 WebAppManager",
            "tv",
        ),
        ("AppleTV11,1/11.1", "tv"),
        (GOOGLEBOT, "bot"),
        (
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "bot",
        ),
        ("curl/8.5.0", "other"),
        ("", "other"),
        (None, "other"),
    ],
)
def test_device_class(header: str | None, device_class: str) -> None:
    got = client_of(header)

    assert got.device_class == device_class
    assert got.is_bot is (device_class == "bot")
    assert got.device_class in DEVICE_CLASSES


def test_browser_and_os_are_the_families() -> None:
    assert client_of(IPHONE) == Client("Mobile Safari", "iOS", "mobile", False)
    assert client_of(WINDOWS_CHROME) == Client("Chrome", "Windows", "desktop", False)


def test_bots_are_named_not_dropped() -> None:
    got = client_of(GOOGLEBOT)

    assert got.is_bot
    assert got.browser == "Googlebot"


def test_a_missing_header_says_nothing() -> None:
    assert client_of(None) == Client("", "", "other", False)


def test_a_huge_header_is_parsed_only_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real_parse = ua_parser.parse

    def parse(header: str) -> Any:
        parsed.append(header)
        return real_parse(header)

    monkeypatch.setattr(ua_parser, "parse", parse)
    huge = WINDOWS_CHROME + " " + "x" * 100_000

    got = client_of(huge)

    assert [len(header) for header in parsed] == [useragent.MAX_PARSED_CHARS]
    assert got == Client("Chrome", "Windows", "desktop", False)


def test_answers_are_cached_per_header() -> None:
    client_of.cache_clear()

    first = client_of(IPHONE)
    second = client_of(IPHONE)

    assert first is second
    assert client_of.cache_info().hits == 1
