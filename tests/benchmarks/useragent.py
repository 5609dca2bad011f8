"""User-Agent enrichment cost: `python -m tests.benchmarks.useragent` prints microseconds per call.

First call (builds ua-parser's matchers), uncached calls on headers never seen
(each a new version number, as a fresh browser release would be), and cached
calls (the usual case: a site sees few distinct headers).
"""

from __future__ import annotations

import statistics
import time

from clickstream.useragent import client_of

HEADERS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.{} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.{}.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/125.0.{}.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.{}; +http://www.google.com/bot.html)",
)


def _microseconds(call: object, arguments: list[str]) -> list[float]:
    times = []
    for argument in arguments:
        start = time.perf_counter()
        call(argument)  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1e6)
    return times


def main() -> None:
    start = time.perf_counter()
    client_of("Mozilla/5.0 (first call)")
    print(f"first call (matchers built): {(time.perf_counter() - start) * 1e3:.0f} ms")
    # ua-parser compiles its matchers lazily: the first round pays for that.
    for round_ in (1, 2):
        fresh = [header.format(f"{round_}{i}") for i in range(500) for header in HEADERS]
        cold = _microseconds(client_of, fresh)
        print(
            f"uncached, round {round_}: median {statistics.median(cold):.1f} us, "
            f"p99 {statistics.quantiles(cold, n=100)[98]:.1f} us, "
            f"max {max(cold):.0f} us over {len(cold)} new headers"
        )
    cached = _microseconds(client_of, fresh[:1000] * 20)
    print(f"cached: median {statistics.median(cached):.2f} us over {len(cached)} calls")


if __name__ == "__main__":
    main()
