"""The ceiling for `make bench-ingest`: a FastAPI endpoint that reads the body and answers.

Served by the same gunicorn set-up as the real API (`clickstream.api.server`).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from clickstream.api.server import serve
from clickstream.config import Settings


def create_noop_app(settings: Settings) -> FastAPI:
    app = FastAPI()

    @app.post("/api/v1/events")
    async def accept(request: Request) -> Response:
        await request.body()
        return Response(b'{"status":"accepted"}', media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b"{}", media_type="application/json")

    return app


if __name__ == "__main__":
    raise SystemExit(serve(Settings(), create_noop_app))
