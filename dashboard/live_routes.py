"""Every `/live` route of a process, in one place and one order.

Starlette tries routes in the order they were added and takes the first whose path and method
match. The path parameter `{stream_id:stream}` matches stream IDs only (a UUID in any case, given to
the route in lower case), so a path that names no stream falls through to the last route, which
answers every other method and path:

1. `POST /live/<uuid>`: send entries (`Ingest`), or, on a UI-only process, a refusal that says
   where to send them. A view (read-only) key is refused with 403 on every process.
2. `OPTIONS /live/<uuid>`: the CORS preflight of browser apps on other origins.
3. `GET /live/<uuid>`: follow the stream as Server-Sent Events (`Readback.follow`); a browser that
   asks for HTML (someone opened the URL) is sent to the stream's page instead.
4. `GET /live/<uuid>/entries`: a page of entries as JSON (`Readback.page`).
5. `/live/<anything>` and `/live`, any method (also one HTTP does not name): 405 with `Allow` for a
   stream's own paths, else 404.

Route 5 must stay last: placed before 3 or 4 it would answer their GETs with 405.

One more route is not under `/live`: a POST (or any method but GET) to a stream's *page* address
`/<uuid>` says where to send logs instead of NiceGUI's bare "Method Not Allowed".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import RedirectResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .http_errors import (
    BUS_UNAVAILABLE,
    CORS_HEADERS,
    NOT_A_STREAM,
    READ_ONLY,
    error_response,
    not_a_stream_response,
    read_only_response,
)
from .ingest import Ingest
from .protocol import (
    BATCH_KEY_HEADER,
    BATCH_KEY_PATTERN,
    BATCH_KEY_RULE,
    BATCH_KEY_SECONDS,
    MAX_BODY_BYTES,
    STREAM_ID_ANY_CASE_PATTERN,
    canonical_stream_id,
    is_view_key,
)
from .readback import Readback

_OTHER_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
_PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": f"Content-Type, Last-Event-ID, {BATCH_KEY_HEADER}",
    "Access-Control-Max-Age": "86400",
}
UI_ONLY = "this BunnyLogs process serves only pages; send logs to an ingest process"
NO_PAGES = "this BunnyLogs process serves no pages; open the stream on a process that serves them"
MERGED_PAGE = ("this is a page of several streams; it takes no log entries (send each stream's with POST to "
               "/live/<its write key>)")
READ_ONLY_PAGE = "this is a stream's read-only page; it takes no log entries (send them to the stream's write URL)"
_POST_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"description": reason, "content": {"application/json": {"example": {"detail": example}}}}
    for status, reason, example in (
        (403, "A read-only (view) key", READ_ONLY),
        (404, "Not a stream", NOT_A_STREAM),
        (413, f"Body over {MAX_BODY_BYTES // 1024 // 1024} MiB",
         f"the body is larger than {MAX_BODY_BYTES // 1024} KiB; send fewer entries per request"),
        (415, "Unsupported content type", "unsupported content type 'application/xml'; send one of: ..."),
        (422, f"Invalid entry or batch, or an {BATCH_KEY_HEADER} that is not {BATCH_KEY_RULE}",
         "entry 3: message is required"),
        (429, "A limit is reached; retry after Retry-After seconds. Nothing stored",
         "limit reached: entries per second per stream, 5000 per second averaged over --burst-seconds 5 "
         "(set by --stream-entries-per-second); retry after 1 s"),
        (503, "Bus unavailable; nothing stored", BUS_UNAVAILABLE),
    )
}
_BATCH_KEY_PARAMETER = {
    "name": BATCH_KEY_HEADER, "in": "header", "required": False,
    "schema": {"type": "string", "pattern": f"^{BATCH_KEY_PATTERN.pattern}$", "maxLength": 128},
    "description": f"A name for this batch, {BATCH_KEY_RULE}, unique per batch and kept across retries of it: "
                   f"a repeat within {BATCH_KEY_SECONDS // 60} minutes is answered 204 and stores nothing again.",
}


class StreamIdConvertor(Convertor[str]):
    """A path segment that is a stream ID in any case; the route gets its canonical lower-case form."""

    regex = STREAM_ID_ANY_CASE_PATTERN

    def convert(self, value: str) -> str:
        return value.lower()

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("stream", StreamIdConvertor())


class MergedStreamIdsConvertor(Convertor[str]):
    """A merged view's path segment: stream IDs (write or view keys) joined by `+`, in any case."""

    regex = f"{STREAM_ID_ANY_CASE_PATTERN}(?:\\+{STREAM_ID_ANY_CASE_PATTERN})+"

    def convert(self, value: str) -> str:
        return value.lower()

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("merged_streams", MergedStreamIdsConvertor())


def build_live_router(*, ingest: Ingest | None, readback: Readback, page_base: str | None = "") -> APIRouter:
    """The `/live` routes, in the order above, and the page address's refusal of other methods.

    `ingest` is None on a process that serves only pages. `page_base` is where the pages are: `""`
    for this process, a base URL for another, None if there is none to send a browser to.
    """
    router = APIRouter()
    _add_post_route(router, ingest)

    @router.options("/live/{stream_id:stream}", include_in_schema=False)
    async def preflight(stream_id: str) -> Response:
        if ingest is None:
            return error_response(404, UI_ONLY)
        return Response(status_code=204, headers=_PREFLIGHT_HEADERS)

    @router.get("/live/{stream_id:stream}", summary="Follow a stream as Server-Sent Events",
                response_class=StreamingResponse,
                responses={200: {"content": {"text/event-stream": {}},
                                 "description": "History, then each new entry, as events with the entry ID as `id`"}})
    async def follow(stream_id: str, request: Request) -> Response:
        """History (`?history=`, default as configured), then live entries, each event's `data` one JSON entry.

        `Last-Event-ID` (sent by EventSource when it reconnects) or `?after=<id>` resumes right after
        that entry instead: no gap, no duplicate. A comment line is sent when nothing else is, to keep
        proxies from closing the connection.
        """
        if page_base is not None and _asks_for_html(request):
            return RedirectResponse(f"{page_base}/{stream_id}", status_code=303)
        return await readback.follow(stream_id, request)

    @router.get("/live/{stream_id:stream}/entries", summary="A page of a stream's entries as JSON")
    async def entries(stream_id: str, request: Request) -> Response:
        """Without `after`: the newest `limit` entries (older than `before=<id>`, if given). With `after=<id>` (`0`
        for the oldest kept): the next `limit` after it. Entries come oldest first; pass `next_after` as `after`
        for newer entries, `next_before` as `before` for older ones.

        Filters: `q` (text, case-insensitive, in the message and its fields), `re=1` (`q` is an RE2 regular
        expression), `not=1`, `level` (minimum), `program` (repeatable), `since`/`until` (the entry's time: ISO
        8601 or ago like `15m`). A filtered page scans at most 10,000 entries or 0.5 s; `scanned`,
        `reached_start` and `reached_end` say how far it got, `kept` how many entries the stream holds.
        """
        return await readback.page(stream_id, request)

    # Routes 5 take every method, also those HTTP leaves open (PROPFIND, PURGE, ...): with a list of
    # methods, those fell through to the pages' "No such page" in HTML.
    async def anything_else(request: Request) -> Response:
        rest: str = request.path_params["rest"]
        if canonical_stream_id(rest) and ingest is None:  # its POST and OPTIONS are refused (404) too
            return error_response(405, f"use GET to follow a stream; {UI_ONLY}", headers={"Allow": "GET"})
        if canonical_stream_id(rest):
            return error_response(405, "use POST to send entries to a stream, GET to follow it",
                                  headers={"Allow": "GET, POST, OPTIONS"})
        stream_id, _, tail = rest.partition("/")
        if canonical_stream_id(stream_id) and tail == "entries":
            return error_response(405, "use GET to read a stream's entries", headers={"Allow": "GET"})
        return not_a_stream_response()

    async def no_stream_named(request: Request) -> Response:
        return not_a_stream_response()

    # An ASGI endpoint (not a function, which Starlette gives GET alone) and no list of methods: every one.
    router.routes.append(Route("/live/{rest:path}", _AnyMethod(anything_else), include_in_schema=False))
    router.routes.append(Route("/live", _AnyMethod(no_stream_named), include_in_schema=False))

    _add_page_address_route(router, serves_pages=page_base == "")
    return router


class _AnyMethod:
    """An endpoint that answers every method: `answer(request)` is the response."""

    def __init__(self, answer: Callable[[Request], Awaitable[Response]]) -> None:
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(Request(scope, receive))
        await response(scope, receive, send)


def _asks_for_html(request: Request) -> bool:
    """Whether the request is a browser opening the URL (not an EventSource, curl or a client)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "text/event-stream" not in accept


def _add_page_address_route(router: APIRouter, *, serves_pages: bool) -> None:
    """`/<uuid>` by any method NiceGUI does not serve there: say what that address is for."""
    methods = [method for method in _OTHER_METHODS if not (serves_pages and method in ("GET", "HEAD"))]

    @router.api_route("/{stream_id:stream}", methods=methods, include_in_schema=False)
    async def page_address(stream_id: str, request: Request) -> Response:
        if request.method in ("GET", "HEAD"):
            return error_response(404, NO_PAGES)
        if is_view_key(stream_id):
            return error_response(405, READ_ONLY_PAGE, headers={"Allow": "GET, HEAD"})
        return error_response(405, f"this is the stream's page; send log entries with POST to /live/{stream_id}",
                              headers={"Allow": "GET, HEAD"})

    @router.api_route("/{stream_ids:merged_streams}", methods=methods, include_in_schema=False)
    async def merged_page_address(stream_ids: str, request: Request) -> Response:
        if request.method in ("GET", "HEAD"):
            return error_response(404, NO_PAGES)
        return error_response(405, MERGED_PAGE, headers={"Allow": "GET, HEAD"})


def _add_post_route(router: APIRouter, ingest: Ingest | None) -> None:
    if ingest is None:
        @router.post("/live/{stream_id:stream}", include_in_schema=False)
        async def refuse(stream_id: str) -> Response:
            return read_only_response() if is_view_key(stream_id) else error_response(404, UI_ONLY)
        return

    @router.post("/live/{stream_id:stream}", status_code=204, response_class=Response,
                 summary="Send log entries (form, multipart, JSON, NDJSON or text)", responses=_POST_ERRORS,
                 openapi_extra={"parameters": [_BATCH_KEY_PARAMETER]})
    async def post_entries(stream_id: str, request: Request) -> Response:
        """Fields: `message` (required), `level`, `program`, `timestamp` (ISO 8601 or epoch), `fields`.

        Form or multipart: one entry. JSON: an object or an array of up to 1,000. NDJSON: one object per
        line. Text: one entry per non-empty line. `?level=` and `?program=` set defaults for all entries.
        A request is accepted whole (204) or not at all. A client that retries should send an
        `Idempotency-Key`, the same on each try of one batch, so that a batch stored before its answer
        was lost is not stored twice.
        """
        return await ingest.accept(stream_id, request)
