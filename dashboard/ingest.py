"""HTTP ingest: `POST /live/<uuid>` turns a request body into entries on the bus.

This router sits on the outer FastAPI app, ahead of NiceGUI's mount, so the hot path does not run
through NiceGUI's per-request middleware.
"""

from __future__ import annotations

import re
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from .parsing import MAX_BODY_BYTES, IngestError, parse_body
from .stream import Bus, BusUnavailable

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NOT_A_STREAM = "no such stream: the path must be /live/<uuid>, with the UUID in canonical lower-case form"
# Browser apps may send logs from any origin: the UUID in the path is the only credential, no cookies.
CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}


class _AcceptedResponse(Response):
    """204 for an accepted POST: built once, as building a Response costs as much as parsing a form.

    Each answer gets its own copy of the header list, which middleware may change in place.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": list(self.raw_headers)})
        await send({"type": "http.response.body", "body": b""})


_ACCEPTED = _AcceptedResponse(status_code=204, headers=CORS_HEADERS)
_PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Content-Type, Last-Event-ID",
    "Access-Control-Max-Age": "86400",
}


_NO_QUERY: dict[str, str] = {}
BUS_UNAVAILABLE = "the log bus is unavailable; retry shortly"
_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"description": reason, "content": {"application/json": {"example": {"detail": example}}}}
    for status, reason, example in (
        (404, "Not a stream", NOT_A_STREAM),
        (413, "Body over 1 MiB", "the body is larger than 1024 KiB; send fewer entries per request"),
        (415, "Unsupported content type", "unsupported content type 'application/xml'; send one of: ..."),
        (422, "Invalid entry or batch", "entry 3: message is required"),
        (503, "Bus unavailable; nothing stored", BUS_UNAVAILABLE),
    )
}


def is_stream_id(text: str) -> bool:
    """True for a UUID in canonical form (lower-case hex, 8-4-4-4-12)."""
    return _CANONICAL_UUID.fullmatch(text) is not None


def build_ingest_router(ingest: Ingest) -> APIRouter:
    """The `/live` routes, publishing through `ingest`."""
    router = APIRouter()

    @router.post("/live/{stream_id}", status_code=204, response_class=Response,
                 summary="Send log entries (form, multipart, JSON, NDJSON or text)", responses=_ERROR_RESPONSES)
    async def post_entries(stream_id: str, request: Request) -> Response:
        """Fields: `message` (required), `level`, `program`, `timestamp` (ISO 8601 or epoch), `fields`.

        Form or multipart: one entry. JSON: an object or an array of up to 1,000. NDJSON: one object per
        line. Text: one entry per non-empty line. `?level=` and `?program=` set defaults for all entries.
        A request is accepted whole (204) or not at all.
        """
        if not is_stream_id(stream_id):
            return error_response(404, NOT_A_STREAM)
        return await ingest.accept(stream_id, request)

    @router.options("/live/{stream_id}", include_in_schema=False)
    async def preflight(stream_id: str) -> Response:
        if not is_stream_id(stream_id):
            return error_response(404, NOT_A_STREAM)
        return Response(status_code=204, headers=_PREFLIGHT_HEADERS)

    @router.api_route("/live/{rest:path}", methods=["GET", "PUT", "PATCH", "DELETE", "OPTIONS"],
                      include_in_schema=False)
    async def other_live_routes(rest: str) -> Response:
        if is_stream_id(rest):
            return error_response(405, "use POST to send entries to a stream, GET to follow it",
                                  headers={"Allow": "GET, POST, OPTIONS"})
        stream_id, _, tail = rest.partition("/")
        if is_stream_id(stream_id) and tail == "entries":
            return error_response(405, "use GET to read a stream's entries", headers={"Allow": "GET"})
        return error_response(404, NOT_A_STREAM)

    @router.post("/live/{rest:path}", include_in_schema=False)
    async def post_to_non_stream(rest: str) -> Response:
        return error_response(404, NOT_A_STREAM)

    return router


class Ingest:
    """Takes requests' entries onto the bus, and counts what it took and refused."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.entries_accepted = 0
        self.requests_refused = 0

    async def accept(self, stream_id: str, request: Request) -> Response:
        """Parse the request's entries and publish them: 204, or the JSON error that says why not."""
        try:
            body = await read_limited_body(request, MAX_BODY_BYTES)
            query = request.query_params if request.scope["query_string"] else _NO_QUERY
            entries = await parse_body(request.headers, body, query, time.time())
            await self.bus.publish(stream_id, entries)
        except IngestError as error:
            self.requests_refused += 1
            return error_response(error.status_code, error.detail)
        except BusUnavailable:
            self.requests_refused += 1
            return bus_unavailable_response()
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        self.entries_accepted += len(entries)
        return _ACCEPTED


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The whole body, or `IngestError(413)` as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    # Read from the server directly: Request.stream() wraps each chunk in an async generator step,
    # which cost as much as reading a small body does.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int) -> IngestError:
    return IngestError(413, f"the body is larger than {limit // 1024} KiB; send fewer entries per request")


def bus_unavailable_response() -> JSONResponse:
    """503 with Retry-After, for when the bus (Redis) cannot be reached."""
    return error_response(503, BUS_UNAVAILABLE, headers={"Retry-After": "1"})


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error every client gets, `{"detail": "..."}`, readable by browser apps too."""
    return JSONResponse({"detail": detail}, status_code=status_code, headers={**CORS_HEADERS, **(headers or {})})
