"""The tracker in a real browser: Debian's Chromium, driven by Playwright.

Against the real local stack's API, ETL and ClickHouse (`make test-browser`
brings one up; these fixtures only find it, as the integration tests do),
with the test page served from another origin than the API: a small HTTP
server on `localhost`, while the API is `127.0.0.1` on its own port.

Every visit is a fresh browser context (its own localStorage, so its own
`anonymous_id`): a test finds its rows by that id, in the shared
`clickstream.events`, and compares them with the events the page queued,
which an init script reports one by one (site/instrument.js).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from playwright.async_api import Request as BrowserRequest

from clickstream_local.stack import Stack
from tests.local_stack import healthy_stack, no_stack

SITE = Path(__file__).parent / "site"
BATCH_PATH = "/api/v1/events/batch"
# The flags Chromium needs here, as root on a closed network: without the
# background-networking ones it keeps trying to reach Google's hosts.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A device clock 2 h 17 min 13.4 s slow: far outside the API's 10 s skew
# quantum, and not a whole number of quanta, so the correction shows.
CLOCK_SKEW_MS = -8_233_400
# The page's reports of what it queued arrive after `page.close()` returns
# (they travel renderer -> browser -> Playwright); this long without one, the
# closing page made no more.
QUIET_S = 1.5
# Rows reach ClickHouse within the ETL's batch wait (1 s) once the API has
# them; a duplicate would too. Waiting this long after the expected count is
# reached lets one show up.
SETTLE_S = 3.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


# -- the stack ----------------------------------------------------------------


@pytest.fixture(scope="session")
def stack() -> Stack:
    found = healthy_stack("`make test-browser`")
    if not Path(CHROMIUM).exists():
        no_stack(
            f"{CHROMIUM} is missing: scripts/install-system-deps.sh installs it",
            "`make test-browser`",
        )
    return found


@pytest.fixture(scope="session")
def api_url(stack: Stack) -> str:
    return stack.plan.api_url


# -- ClickHouse -----------------------------------------------------------------


def clickhouse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


@dataclass
class Stored:
    """A visit's rows: as analysts see them (FINAL) and how many rows exist raw."""

    rows: list[dict[str, Any]]
    raw_count: int

    @property
    def ids(self) -> list[str]:
        return sorted(row["event_id"] for row in self.rows)


@dataclass
class Warehouse:
    client: httpx.AsyncClient

    async def query(self, sql: str) -> list[dict[str, Any]]:
        response = await self.client.post("/", content=f"{sql} FORMAT JSONEachRow")
        assert response.status_code == 200, response.text
        return [json.loads(line) for line in response.text.splitlines() if line]

    async def stored(self, anonymous_id: str) -> Stored:
        where = f"WHERE anonymous_id = '{uuid.UUID(anonymous_id)}'"
        rows = await self.query(f"SELECT * FROM clickstream.events FINAL {where}")
        [raw] = await self.query(f"SELECT count() AS n FROM clickstream.events {where}")
        return Stored(rows, int(raw["n"]))

    async def wait_for(self, anonymous_id: str, expected: int, timeout_s: float = 90) -> Stored:
        """The visit's rows once `expected` are there, after SETTLE_S more for duplicates."""
        deadline = time.monotonic() + timeout_s
        while True:
            stored = await self.stored(anonymous_id)
            if stored.raw_count >= expected:
                break
            if time.monotonic() > deadline:
                return stored
            await asyncio.sleep(0.5)
        await asyncio.sleep(SETTLE_S)
        return await self.stored(anonymous_id)


@pytest.fixture
async def warehouse(stack: Stack) -> AsyncIterator[Warehouse]:
    base = f"http://127.0.0.1:{stack.local.clickhouse_http_port}"
    # No kept-alive connections: ClickHouse closes an idle one after 3 s
    # (keep_alive_timeout), and a poll after a longer pause read a closed socket.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        yield Warehouse(client)


# -- the other origin -----------------------------------------------------------


class _SiteHandler(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/page":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def site(api_url: str) -> Iterator[str]:
    """The test page's URL, on an origin of its own (another host and port than the API)."""
    page = (SITE / "page.html").read_text().replace("__API__", api_url)
    handler = type("SiteHandler", (_SiteHandler,), {"page": page.encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/page"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- the browser ----------------------------------------------------------------


@pytest.fixture(scope="session")
async def browser(stack: Stack) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # Playwright adds --headless and a fresh temporary --user-data-dir.
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@dataclass
class Batch:
    """One request of the tracker to the batch route and what came of it (0: no answer)."""

    status: int
    ids: list[str]
    resource_type: str


@dataclass
class Visit:
    """A browser context on the site: its page, what it queued, what it sent."""

    context: BrowserContext
    page: Page
    site: str
    api_url: str
    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: list[Batch] = field(default_factory=list)

    async def open(self) -> None:
        await self.page.goto(self.site)

    async def init(self, **options: Any) -> None:
        await self.page.evaluate(
            "options => clickstream.init(options)", {"endpoint": self.api_url, **options}
        )

    async def anonymous_id(self) -> str:
        text: str = await self.page.evaluate("JSON.parse(localStorage.getItem('cs_anonymous_id'))")
        return text

    async def queued_ids(self) -> set[str]:
        ids: list[str] = await self.page.evaluate(
            "(JSON.parse(localStorage.getItem('cs_queue')) || []).map(e => e.event_id)"
        )
        return set(ids)

    async def stats(self) -> dict[str, int]:
        stats: dict[str, int] = await self.page.evaluate("clickstream.stats()")
        return stats

    def types(self) -> list[str]:
        return sorted(event["event_type"] for event in self.created.values())

    async def until(self, condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.1)

    async def quiet(self) -> None:
        """Wait for the reports still on their way from a closing page."""
        while True:
            known = len(self.created)
            await asyncio.sleep(QUIET_S)
            if len(self.created) == known:
                return

    def _record(self, request: BrowserRequest, status: int) -> None:
        if not request.url.endswith(BATCH_PATH) or request.method != "POST":
            return
        body = json.loads(request.post_data or "{}")
        ids = [event.get("event_id") for event in body.get("events", [])]
        self.batches.append(Batch(status, ids, request.resource_type))


OpenVisit = Callable[..., Awaitable[Visit]]


@pytest.fixture
async def open_visit(
    browser: Browser, site: str, api_url: str
) -> AsyncIterator[Callable[..., Awaitable[Visit]]]:
    """Opens the site in a fresh context with a skewed clock: `await open_visit()`."""
    contexts: list[BrowserContext] = []

    async def open_visit(skew_ms: int = CLOCK_SKEW_MS) -> Visit:
        context = await browser.new_context()
        contexts.append(context)
        visit = Visit(context, await context.new_page(), site, api_url)
        await context.expose_function(
            "csTestCreated", lambda event: visit.created.setdefault(event["event_id"], event)
        )
        script = (SITE / "instrument.js").read_text().replace("SKEW_MS", str(skew_ms))
        await context.add_init_script(script)
        context.on("response", lambda response: visit._record(response.request, response.status))
        context.on("requestfailed", lambda request: visit._record(request, 0))
        await visit.open()
        return visit

    yield open_visit
    for context in contexts:
        await context.close()
