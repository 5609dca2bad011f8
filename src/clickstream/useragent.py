"""Server-side enrichment from the User-Agent header: browser, OS, device class, bot.

ua-parser (with its maintained rule set, ua-parser-builtins, and the native
matcher ua-parser-rs) names the browser, OS and device family; the device
class is ours, from those names and a few tokens. Only the header is read,
never the client's address. Results are cached per header value: a site sees
few distinct browsers, and a cached answer costs a dictionary lookup.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import ua_parser

DEVICE_CLASSES = ("mobile", "tablet", "desktop", "tv", "bot", "other")
# Longer headers are cut before parsing: real ones stay near 300 characters,
# and a hostile one must not cost the matcher more than this.
MAX_PARSED_CHARS = 512

_TV = re.compile(
    r"Smart-?TV|SMART-TV|HbbTV|Apple ?TV|Google ?TV|Android TV|BRAVIA|CrKey|Roku|Web0S"
    r"|webOS.TV|\bAFT[A-Z]",
    re.IGNORECASE,
)
_TABLET_DEVICES = frozenset({"iPad", "Kindle", "Kindle Fire", "Galaxy Tab", "BlackBerry Playbook"})
_MOBILE_DEVICES = frozenset({"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone"})
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "KaiOS", "BlackBerry OS", "Symbian OS"})
_DESKTOP_OS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Debian", "Chrome OS", "FreeBSD"}
)


@dataclass(frozen=True, slots=True)
class Client:
    """What the User-Agent header says about the client; '' where it says nothing."""

    browser: str
    os: str
    device_class: str
    is_bot: bool


@functools.lru_cache(maxsize=4096)
def client_of(user_agent: str | None) -> Client:
    """The client a User-Agent header describes (None: the request had none)."""
    header = (user_agent or "")[:MAX_PARSED_CHARS]
    result = ua_parser.parse(header)
    browser = result.user_agent.family if result.user_agent else ""
    os = result.os.family if result.os else ""
    device = result.device.family if result.device else ""
    device_class = _device_class(header, browser, os, device)
    return Client(browser, os, device_class, device_class == "bot")


def _device_class(header: str, browser: str, os: str, device: str) -> str:
    # ua-parser's rules name every crawler they know as the device "Spider".
    if device == "Spider":
        return "bot"
    if _TV.search(header):
        return "tv"
    if device in _TABLET_DEVICES:
        return "tablet"
    if device in _MOBILE_DEVICES:
        return "mobile"
    # Android tablets leave "Mobile" out of the header (Google's advice to
    # browser makers); phones keep it.
    if os == "Android":
        return "mobile" if "Mobile" in header else "tablet"
    if os in _MOBILE_OS or "Mobile" in browser:
        return "mobile"
    # iPads since iPadOS 13 send a Mac header by default: they count as desktops.
    if os in _DESKTOP_OS or "X11" in header:
        return "desktop"
    return "other"
