"""The app built by `create_app` with a fake sink, driven in-process over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest

from clickstream.api.app import create_app
from clickstream.config import Settings

from .fake_sink import FakeSink

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def sink() -> FakeSink:
    return FakeSink()


@pytest.fixture
def serve(sink: FakeSink) -> Serve:
    """`async with serve(settings) as client:` runs the app, lifespan included."""

    @asynccontextmanager
    async def serve(settings: Settings | None = None) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings or Settings(), sink)
        async with app.router.lifespan_context(app):
            # An unhandled error becomes the 500 a real client would see.
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client

    return serve


@pytest.fixture
async def client(serve: Serve) -> AsyncIterator[httpx.AsyncClient]:
    async with serve() as client:
        yield client
