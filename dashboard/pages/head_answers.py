"""HEAD on a page's address: the status and type a GET would get, without building a page session.

Uptime monitors ask with HEAD (some by default). NiceGUI serves pages to GET only, so HEAD got a 405,
and a monitor took the service for broken. Building the page for a HEAD would hold a page session
for a socket that never comes, so the answer is worked out from the address alone, as the page does
first: a stream's or a merged view's page (200), a redirect to its one address (308), an address
that names too many streams (400), or none (404).
"""

from __future__ import annotations

from fastapi import Request, Response
from nicegui import app

from .stream_keys import TooManyParts, TooManyStreams, keys_path, page_keys

HTML = "text/html; charset=utf-8"


def answer_head_requests() -> None:
    """Answer HEAD on `/` and on every page address (see the module's docstring)."""
    app.add_api_route("/", _landing_head, methods=["HEAD"], include_in_schema=False)
    app.add_api_route("/{path}", _page_head, methods=["HEAD"], include_in_schema=False)


async def _landing_head() -> Response:
    return _head(200)


async def _page_head(path: str, request: Request) -> Response:
    keys = page_keys(path)
    if keys is None:
        return _head(404)
    if isinstance(keys, TooManyStreams | TooManyParts):
        return _head(400)
    canonical = keys_path(keys)
    if canonical != f"/{path}":
        query = f"?{request.url.query}" if request.url.query else ""
        return _head(308, location=f"{canonical}{query}")
    return _head(200)


def _head(status: int, *, location: str | None = None) -> Response:
    """Headers only; no Content-Length, which would claim the page's size (a GET's page is not built)."""
    response = Response(status_code=status, media_type=HTML, headers={"Cache-Control": "no-store"})
    del response.headers["content-length"]
    if location is not None:
        response.headers["Location"] = location
    return response
