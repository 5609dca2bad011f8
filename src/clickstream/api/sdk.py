"""Serving the browser tracker: `GET /sdk/clickstream.js`.

The bundle is built from clients/js by `make sdk` and committed under
`static/`, so the wheel and the image carry it without Node. It is read once,
when the route is made, and served from memory in two representations
(identity and gzip), each with its own strong ETag.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SDK_PATH = "/sdk/clickstream.js"
MEDIA_TYPE = "application/javascript; charset=utf-8"
# Sites paste one unversioned URL, so the bundle cannot be cached as immutable:
# an hour bounds how long a fixed tracker takes to reach every browser, and
# the ETag makes each revalidation after that a 304 without the body.
CACHE_CONTROL = "public, max-age=3600"


@dataclass(frozen=True, slots=True)
class Bundle:
    identity: bytes
    gzipped: bytes
    identity_etag: str
    gzip_etag: str

    @classmethod
    def of(cls, body: bytes) -> Bundle:
        digest = hashlib.sha256(body).hexdigest()[:32]
        # mtime=0: the same bytes on every worker and every start, so the
        # representation and its ETag agree across replicas.
        return cls(body, gzip.compress(body, 9, mtime=0), f'"{digest}"', f'"{digest}-gzip"')

    @classmethod
    def packaged(cls) -> Bundle:
        """The committed bundle, from the installed package."""
        return cls.of(
            resources.files("clickstream.api").joinpath("static/clickstream.js").read_bytes()
        )


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether `Accept-Encoding` allows gzip (RFC 9110: `gzip;q=0` refuses it, `*` allows it)."""
    allowed: dict[str, bool] = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        quality = params.strip().removeprefix("q=")
        try:
            allowed[coding.strip()] = not params or float(quality) > 0
        except ValueError:
            allowed[coding.strip()] = False
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", False)))


def matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x" (RFC 9110 13.1.2)."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def sdk_endpoint(bundle: Bundle) -> Callable[[Request], Awaitable[Response]]:
    async def serve_sdk(request: Request) -> Response:
        zipped = accepts_gzip(request.headers.get("accept-encoding", ""))
        etag = bundle.gzip_etag if zipped else bundle.identity_etag
        headers = {
            "ETag": etag,
            "Cache-Control": CACHE_CONTROL,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
            # Loaded by other sites: allowed under their COEP, and readable
            # with <script crossorigin integrity=...> (public bytes, no cookies).
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Access-Control-Allow-Origin": "*",
        }
        if matches(request.headers.get("if-none-match", ""), etag):
            return Response(status_code=304, headers=headers)
        if zipped:
            headers["Content-Encoding"] = "gzip"
        body = bundle.gzipped if zipped else bundle.identity
        return Response(body, media_type=MEDIA_TYPE, headers=headers)

    return serve_sdk


def sdk_route(bundle: Bundle | None = None) -> Route:
    """The route, for `app.router.routes.append(sdk_route())`; GET and HEAD."""
    return Route(
        SDK_PATH,
        sdk_endpoint(bundle or Bundle.packaged()),
        methods=["GET"],
        include_in_schema=False,
    )
