"""HEAD on a page's address: the status and type a GET would get, without building a page session.

Uptime monitors ask with HEAD (some by default). NiceGUI serves pages to GET only, so HEAD got a 405,
and a monitor took the service for broken. Building the page for a HEAD would hold a page session
for a socket that never comes, so the answer is worked out from the address alone, as the page does
first: a stream's or a merged view's page (200), a redirect to its one address (308), an address
that names too many streams, or more than a client may follow at once (400), or none (404). A HEAD
takes no viewer's place, so it does not say whether one more viewer would be let in now (a GET may
be answered 429).
"""

from __future__ import annotations

from fastapi import Request, Response
from nicegui import app

from ..follower_limits import FollowerLimits
from .stream_keys import TooManyParts, TooManyStreams, keys_path, page_keys

HTML = "text/html; charset=utf-8"


def answer_head_requests(followers: FollowerLimits | None) -> None:
    """Answer HEAD on `/` and on every page address (see the module's docstring), within `followers`' limits."""
    per_client = followers.per_client if followers is not None else 0

    async def page_head(path: str, request: Request) -> Response:
        keys = page_keys(path)
        if keys is None:
            return _head(404)
        if isinstance(keys, TooManyStreams | TooManyParts):
            return _head(400)
        canonical = keys_path(keys)
        if canonical != f"/{path}":  # as a GET: to the one address first, where the limit is then told
            query = f"?{request.url.query}" if request.url.query else ""
            return _redirect(f"{canonical}{query}")
        return _head(400 if per_client and len(keys) > per_client else 200)

    app.add_api_route("/", _landing_head, methods=["HEAD"], include_in_schema=False)
    app.add_api_route("/{path}", page_head, methods=["HEAD"], include_in_schema=False)


async def _landing_head() -> Response:
    return _head(200)


def _head(status: int) -> Response:
    """Headers only; no Content-Length, which would claim the page's size (a GET's page is not built)."""
    response = Response(status_code=status, media_type=HTML, headers={"Cache-Control": "no-store"})
    del response.headers["content-length"]
    return response


def _redirect(location: str) -> Response:
    """A redirect's headers, as a GET's: it has no body, and so no type."""
    return Response(status_code=308, headers={"Location": location, "Cache-Control": "no-store"})
