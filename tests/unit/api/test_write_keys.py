"""The write-key check: off by default, then a known key in the header or the query."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers, QueryParams

from clickstream.api.write_keys import WriteKeys
from clickstream.config import Settings


def allows(keys: WriteKeys, *, header: str | None = None, query: str = "") -> bool:
    headers = Headers({"X-Clickstream-Key": header} if header is not None else {})
    return keys.allows(headers, QueryParams(query))


def test_off_by_default() -> None:
    keys = WriteKeys(Settings().api.write_keys)
    assert not keys.enabled
    assert allows(keys)


@pytest.mark.parametrize(
    ("header", "query"),
    [("site-a", ""), (None, "key=site-a"), (None, "x=1&key=site-b"), ("site-b", "key=nope")],
)
def test_a_known_key_is_let_in(header: str | None, query: str) -> None:
    assert allows(WriteKeys(["site-a", "site-b"]), header=header, query=query)


@pytest.mark.parametrize(
    ("header", "query"),
    [(None, ""), ("", ""), ("site-c", ""), (None, "key=SITE-A"), (None, "key=")],
)
def test_no_key_or_an_unknown_one_is_refused(header: str | None, query: str) -> None:
    assert not allows(WriteKeys(["site-a", "site-b"]), header=header, query=query)


def test_the_setting_reads_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSTREAM_API__WRITE_KEYS", '["site-a","site-b"]')
    assert WriteKeys(Settings().api.write_keys).enabled
