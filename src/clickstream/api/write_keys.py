"""Optional write keys for ingest: a public token per site, as Segment and PostHog have.

Off while the configured list is empty. When on, an ingest request must name a
known key in the `X-Clickstream-Key` header or the `key` query parameter (for
`navigator.sendBeacon`, which cannot set headers); otherwise the API answers 401.
A write key is public (it ships in the site's JavaScript): it tells sites apart
and keeps strangers' junk out, it does not authenticate anyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

HEADER = "x-clickstream-key"
QUERY_PARAMETER = "key"


class WriteKeys:
    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = frozenset(key for key in keys if key)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def allows(self, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
        """Whether a request with these headers (lower-case names) and query may ingest."""
        if not self._keys:
            return True
        key = headers.get(HEADER) or query.get(QUERY_PARAMETER)
        return key is not None and key in self._keys
