"""Reading a stream back over HTTP: `GET /live/<uuid>` (Server-Sent Events) and `/live/<uuid>/entries` (JSON).

`Readback` answers both; `live_routes` declares the routes that call it. Either key of a stream
reads it: the write key or its view key (`protocol.bus_stream_id`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .entry import StreamEntry
from .http_errors import CORS_HEADERS, bus_unavailable_response, error_response
from .protocol import bus_stream_id, is_entry_id
from .stream import Bus, BusUnavailable

MAX_HISTORY = 10_000
MAX_PAGE = 1000
DEFAULT_PAGE = 100
# A reader this far behind is disconnected; it resumes from its Last-Event-ID, and the bus still has the entries.
MAX_PENDING_ENTRIES = 10_000
RECONNECT_DELAY_MS = 1000
_STREAM_HEADERS = {
    **CORS_HEADERS,
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx must pass each event on at once
}


class QueryError(ValueError):
    """A query parameter that cannot be used; the message says which and why."""


class OpenEventStreams:
    """The SSE responses in progress, so that a shutting-down server can end them instead of waiting."""

    def __init__(self) -> None:
        self._readers: set[EventStreamReader] = set()

    def add(self, reader: EventStreamReader) -> None:
        """Track a reader until its response ends."""
        self._readers.add(reader)

    def discard(self, reader: EventStreamReader) -> None:
        """Forget a reader whose response has ended."""
        self._readers.discard(reader)

    def end_all(self) -> None:
        """Ask every open event stream to finish (clients reconnect to another server or later)."""
        for reader in list(self._readers):
            reader.end()


class Readback:
    """Answers the read requests of one process: a stream followed as events, or a page of it as JSON."""

    def __init__(self, bus: Bus, *, default_history: int, keepalive_seconds: float) -> None:
        self.bus = bus
        self.open_event_streams = OpenEventStreams()
        self._default_history = default_history
        self._keepalive_seconds = keepalive_seconds

    async def follow(self, stream_id: str, request: Request) -> Response:
        """History, then live entries, as Server-Sent Events; or the JSON error that says why not."""
        if not accepts_event_stream(request.headers.get("accept")):
            return error_response(406, "this URL streams text/event-stream; for JSON use /live/<uuid>/entries")
        try:
            # EventSource sends Last-Event-ID when it reconnects; it wins over the ?after= of the first request.
            after = _entry_id_param({**request.query_params, **_last_event_id(request)}, "after")
            history = _int_param(request.query_params, "history", self._default_history, 0, MAX_HISTORY)
        except QueryError as error:
            return error_response(422, str(error))
        reader = EventStreamReader(self._keepalive_seconds)
        try:
            subscription = await self.bus.subscribe(bus_stream_id(stream_id), reader.deliver, history=history,
                                                    after=after)
        except BusUnavailable:
            return bus_unavailable_response()
        self.open_event_streams.add(reader)

        def finished() -> None:
            subscription.close()
            self.open_event_streams.discard(reader)

        return StreamingResponse(reader.events(finished), media_type="text/event-stream", headers=_STREAM_HEADERS)

    async def page(self, stream_id: str, request: Request) -> Response:
        """A page of entries as JSON, with `next_after` to ask for the following one."""
        try:
            after = _entry_id_param(request.query_params, "after")
            limit = _int_param(request.query_params, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
        except QueryError as error:
            return error_response(422, str(error))
        try:
            entries = await self.bus.read(bus_stream_id(stream_id), after=after, limit=limit)
        except BusUnavailable:
            return bus_unavailable_response()
        body = {"entries": [stream_entry.to_wire() for stream_entry in entries],
                "next_after": entries[-1].id if entries else after}
        return Response(orjson.dumps(body), media_type="application/json", headers=CORS_HEADERS)


class EventStreamReader:
    """Buffers one SSE client's entries between the bus and the response, and writes them as events."""

    def __init__(self, keepalive_seconds: float) -> None:
        self._keepalive_seconds = keepalive_seconds
        # An empty batch is the signal to end the response.
        self._batches: asyncio.Queue[list[StreamEntry]] = asyncio.Queue()
        self._pending = 0
        self._overflowed = False
        self._ending = False

    def deliver(self, batch: list[StreamEntry]) -> None:
        """Take entries from the bus; never blocks, never grows without bound."""
        if self._overflowed:
            return
        self._pending += len(batch)
        if self._pending > MAX_PENDING_ENTRIES:
            self._overflowed = True
        self._batches.put_nowait(batch)

    def end(self) -> None:
        """Finish the response after what is already queued."""
        self._ending = True
        self._batches.put_nowait([])

    async def events(self, finished: Callable[[], None]) -> AsyncIterator[bytes]:
        """The response body: a retry hint, then events and keep-alive comments until the client leaves."""
        try:
            yield f"retry: {RECONNECT_DELAY_MS}\n: connected\n\n".encode()
            while True:
                try:
                    batch = await asyncio.wait_for(self._batches.get(), self._keepalive_seconds)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                batches = [batch]
                with contextlib.suppress(asyncio.QueueEmpty):
                    while True:
                        batches.append(self._batches.get_nowait())
                self._pending -= sum(len(b) for b in batches)
                yield b"".join(format_event(stream_entry) for b in batches for stream_entry in b)
                if self._ending:
                    yield b": the server is stopping; reconnect with Last-Event-ID to resume\n\n"
                    return
                if self._overflowed and self._pending == 0:
                    yield b": too far behind; reconnect with Last-Event-ID to resume\n\n"
                    return
        finally:
            finished()


def format_event(stream_entry: StreamEntry) -> bytes:
    """One SSE event: the entry ID as `id`, the entry as one line of JSON as `data`."""
    return b"id: " + stream_entry.id.encode() + b"\ndata: " + orjson.dumps(stream_entry.to_wire()) + b"\n\n"


def accepts_event_stream(accept: str | None) -> bool:
    """Whether an Accept header allows text/event-stream (a missing header allows anything)."""
    if not accept:
        return True
    for media_range in accept.split(","):
        media_type, _, parameters = media_range.partition(";")
        if media_type.strip().lower() in ("text/event-stream", "text/*", "*/*") and not _is_zero_quality(parameters):
            return True
    return False


def _is_zero_quality(parameters: str) -> bool:
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "q":
            with contextlib.suppress(ValueError):
                return float(value) == 0
    return False


def _last_event_id(request: Request) -> dict[str, str]:
    value = request.headers.get("last-event-id", "").strip()
    return {"after": value} if value else {}


def _entry_id_param(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if not is_entry_id(value):
        raise QueryError(f"{name} must be an entry ID like 1700000000000-0, got {value[:40]!r}")
    return value


def _int_param(query: Mapping[str, str], name: str, default: int, lowest: int, highest: int) -> int:
    value = query.get(name)
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 20 or not lowest <= int(value) <= highest:
        raise QueryError(f"{name} must be a whole number from {lowest} to {highest}, got {value[:40]!r}")
    return int(value)
