"""HTTP ingest: a `POST /live/<uuid>` body becomes entries on the bus.

`Ingest` parses, publishes and counts; `live_routes` declares the route that calls it. A server
also puts `IngestFastLane` in front of the whole app, which answers that one request shape with
the same `Ingest` before FastAPI's middleware and routing: those per-request layers cost more
than the ingest itself. Its 204s go straight to the connection where the server allows it
(`direct_answers`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .client_identity import client_address
from .content_coding import decoded_body
from .direct_answers import NO_CONTENT_EXTENSION, NoContentWriter, encode_header_lines
from .http_errors import CORS_HEADERS, bus_unavailable_response, error_response, read_only_response
from .ingest_limits import IngestLimits
from .parsing import IngestError, parse_utf8_body, utf8_body
from .protocol import (
    BATCH_KEY_HEADER,
    BATCH_KEY_PATTERN,
    BATCH_KEY_RULE,
    MAX_BODY_BYTES,
    bus_stream_id,
    canonical_stream_id,
    is_view_key,
)
from .security_headers import DATA_ANSWER_HEADERS
from .stop_answers import STOPPED_INGEST, STOPPING_INGEST, answer_stopped, stopped_response
from .stream import Bus, BusFull, BusUnavailable

log = logging.getLogger("uvicorn.error")
_NO_QUERY: dict[str, str] = {}
_LIVE_PREFIX = "/live/"

_BATCH_KEY_NAME = BATCH_KEY_HEADER.lower().encode("latin-1")


class _AcceptedResponse(Response):
    """204 for an accepted POST: built once, as building a Response costs as much as parsing a form.

    Each answer gets its own copy of the header list, which middleware may change in place.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": list(self.raw_headers)})
        await send({"type": "http.response.body", "body": b""})


_ACCEPTED_HEADERS = {**CORS_HEADERS, **DATA_ANSWER_HEADERS}
_ACCEPTED = _AcceptedResponse(status_code=204, headers=_ACCEPTED_HEADERS)
_ACCEPTED_LINES = encode_header_lines(_ACCEPTED_HEADERS)  # the same answer, written straight to the connection
_NO_EXTENSIONS: dict[str, dict[str, Any]] = {}


class Ingest:
    """Takes requests' entries onto the bus, within `limits` when given, and counts what it took and refused."""

    def __init__(self, bus: Bus, limits: IngestLimits | None = None) -> None:
        self.bus = bus
        self.limits = limits
        self.entries_accepted = 0
        self.requests_refused = 0
        self.stopping = False

    def stop_taking(self) -> None:
        """The server is stopping: on a bus that ends with the process, take no more entries (503).

        Its followers' streams end as it stops, and what it held is gone once it has: entries taken in
        that time (requests under way) were answered 204 and seen by nobody. Refused, their senders retry
        them on the server that comes next. On Redis they are stored, and read from there.
        """
        if not self.bus.keeps_entries_across_restarts:
            self.stopping = True

    async def accept(self, stream_id: str, request: Request) -> Response:
        """Parse the request's entries and publish them: 204, or the JSON error that says why not.

        `stream_id` is the key in the address; a view key may not write (403).
        """
        if is_view_key(stream_id):
            self.requests_refused += 1
            return read_only_response()
        limits = self.limits
        try:
            if limits is not None:
                client = client_address(request.scope, trust_forwarded_for=limits.trust_forwarded_for)
                if (pending := limits.check_client(client)) and (refusal := await pending):
                    self.requests_refused += 1
                    return refusal.response()
            head = _RequestHead(request.scope["headers"])
            batch_key = _batch_key(head.batch_key)
            body = await read_limited_body(request, MAX_BODY_BYTES, declared=head.content_length)
            if head.content_encoding is not None:
                body = decoded_body(head.content_encoding, body, MAX_BODY_BYTES)
            content_type, body = utf8_body(head.content_type, body)  # so that the limits count what is stored
            query = request.query_params if request.scope["query_string"] else _NO_QUERY
            entries = await parse_utf8_body(content_type, body, query, time.time())
            if limits is not None:
                pending = limits.check_stream(stream_id, client, len(entries), len(body))
                if pending and (refusal := await pending):
                    self.requests_refused += 1
                    return refusal.response()
                entries = limits.names.fold(stream_id, entries)
            if self.stopping:
                self.requests_refused += 1
                return stopped_response(STOPPING_INGEST)
            await self.bus.publish(bus_stream_id(stream_id), entries, batch_key=batch_key)
        except IngestError as error:
            self.requests_refused += 1
            return error_response(error.status_code, error.detail)
        except BusUnavailable as error:
            self.requests_refused += 1
            return bus_unavailable_response(full=isinstance(error, BusFull))
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        self.entries_accepted += len(entries)
        return _ACCEPTED


class _RequestHead:
    """The headers ingest reads, found in one pass.

    A header sent on several lines is read as HTTP says: the lines of a list (`Content-Encoding`, and
    `Idempotency-Key`, which must then be one key) joined by commas; a second `Content-Type` is refused
    (`IngestError(400)`). Taking only the first line stored a gzip body sent with `identity` and `gzip`
    on two lines as its compressed bytes. Starlette's `Headers` decodes every name for each lookup, and
    finds a missing one by catching a KeyError: three lookups cost more than parsing a small form.
    """

    __slots__ = ("batch_key", "content_encoding", "content_length", "content_type")

    def __init__(self, raw_headers: list[tuple[bytes, bytes]]) -> None:
        content_type = content_length = batch_key = content_encoding = None
        for name, value in raw_headers:
            if name == b"content-type":
                if content_type is not None:
                    raise IngestError(400, "the Content-Type header is given more than once")
                content_type = value
            elif name == b"content-length":
                content_length = content_length if content_length is not None else value
            elif name == _BATCH_KEY_NAME:
                batch_key = value if batch_key is None else batch_key + b", " + value
            elif name == b"content-encoding":
                content_encoding = value if content_encoding is None else content_encoding + b", " + value
        self.content_type = content_type.decode("latin-1") if content_type is not None else ""
        self.content_length = content_length.decode("latin-1") if content_length is not None else None
        self.batch_key = batch_key.decode("latin-1") if batch_key is not None else None
        self.content_encoding = content_encoding.decode("latin-1") if content_encoding is not None else None


def _batch_key(key: str | None) -> str | None:
    """The request's `Idempotency-Key` if it has one; `IngestError(422)` if it breaks the rule."""
    if key is None or BATCH_KEY_PATTERN.fullmatch(key):
        return key
    raise IngestError(422, f"the {BATCH_KEY_HEADER} header must be {BATCH_KEY_RULE}")


async def read_limited_body(request: Request, limit: int, *, declared: str | None) -> bytes:
    """The whole body, or `IngestError(413)` as soon as it is known to exceed `limit` bytes.

    `declared`: the request's Content-Length, if it has one.
    """
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
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


class IngestFastLane:
    """An ASGI app that serves `POST /live/<uuid>` itself and passes everything else to `app`."""

    def __init__(self, app: ASGIApp, ingest: Ingest) -> None:
        self.app = app
        self._ingest = ingest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            if path.startswith(_LIVE_PREFIX) and (stream_id := canonical_stream_id(path[len(_LIVE_PREFIX):])):
                await self._accept(stream_id, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _accept(self, stream_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await self._ingest.accept(stream_id, Request(scope, receive))
        except asyncio.CancelledError:  # uvicorn ending the request at shutdown (see stop_answers)
            await answer_stopped(STOPPED_INGEST, scope, receive, send)
            return
        except Exception:  # a bug, not bad input: answer rather than leave the client hanging
            # The view key: the log must not hold the key that can write to the stream.
            log.exception("ingest failed for stream %s (view key)", bus_stream_id(stream_id))
            response = error_response(500, "internal server error; see the server log")
        if response is _ACCEPTED:
            extension = scope.get("extensions", _NO_EXTENSIONS).get(NO_CONTENT_EXTENSION)
            write: NoContentWriter | None = extension["write"] if extension else None
            if write is not None and write(scope, _ACCEPTED_LINES):
                return
        await response(scope, receive, send)
