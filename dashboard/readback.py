"""Reading a stream back over HTTP: `GET /live/<uuid>` (Server-Sent Events) and `/live/<uuid>/entries` (JSON).

`Readback` answers both; `live_routes` declares the routes that call it. Either key of a stream
reads it: the write key or its view key (`protocol.bus_stream_id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from .client_identity import client_address
from .connection_abort import abort_connection, answer_lasts, untaken_by_peer
from .entry import StreamEntry
from .entry_pages import read_page
from .entry_query import QueryError, parse_entry_query
from .follower_limits import FollowerLimits
from .http_errors import CORS_HEADERS, RETRY_AFTER_SECONDS, bus_unavailable_response, error_response
from .protocol import bus_stream_id, is_entry_id
from .stream import Bus, BusUnavailable

MAX_HISTORY = 10_000
MAX_PAGE = 1000
DEFAULT_PAGE = 100
# Filtered reads (each a bounded scan) running at once in a process, and waiting for a place.
MAX_SCANS_AT_ONCE = 2
MAX_SCANS_WAITING = 8
# A reader this far behind is disconnected; it resumes from its Last-Event-ID, and the bus still has the entries.
MAX_PENDING_ENTRIES = 10_000
MAX_PENDING_BYTES = 8 * 1024 * 1024
# Events are written in pieces of about this size, so that a slow client holds up one piece at a time.
WRITE_CHUNK_BYTES = 256 * 1024
RECONNECT_DELAY_MS = 1000
# While a send to an event stream's reader waits, how often to look whether the reader takes anything.
PROGRESS_LOOK_SECONDS = 1.0
_STREAM_HEADERS = {
    **CORS_HEADERS,
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx must pass each event on at once
}


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

    def __init__(self, bus: Bus, *, default_history: int, keepalive_seconds: float, send_timeout_seconds: float = 30.0,
                 followers: FollowerLimits | None = None, trust_forwarded_for: bool = False) -> None:
        self.bus = bus
        self.followers = followers
        self._trust_forwarded_for = trust_forwarded_for
        self.open_event_streams = OpenEventStreams()
        self._default_history = default_history
        self._keepalive_seconds = keepalive_seconds
        self._send_timeout_seconds = send_timeout_seconds
        self._scans = ScanSlots(MAX_SCANS_AT_ONCE, MAX_SCANS_WAITING)

    async def follow(self, stream_id: str, request: Request) -> Response:
        """History, then live entries, as Server-Sent Events; or the JSON error that says why not."""
        if not accepts_event_stream(request.headers.get("accept")):
            return error_response(406, "this URL streams text/event-stream; for JSON use /live/<uuid>/entries")
        try:
            # EventSource sends Last-Event-ID when it reconnects; it wins over the ?after= of the first request.
            resumed = _last_event_id(request)
            after = (_entry_id_param(resumed, "Last-Event-ID") if resumed
                     else _entry_id_param(request.query_params, "after"))
            history = _int_param(request.query_params, "history", self._default_history, 0, MAX_HISTORY)
        except QueryError as error:
            return error_response(422, str(error))
        uncount = _no_count
        if self.followers is not None:
            client = client_address(request.scope, trust_forwarded_for=self._trust_forwarded_for)
            counted = self.followers.open(bus_stream_id(stream_id), client)  # either key: one stream
            if not callable(counted):
                return counted.response()
            uncount = counted
        reader = EventStreamReader(self._keepalive_seconds)
        try:
            subscription = await self.bus.subscribe(bus_stream_id(stream_id), reader.deliver, history=history,
                                                    after=after, notice=reader.tell,
                                                    availability=reader.tell_availability)
        except BusUnavailable:
            uncount()
            return bus_unavailable_response()
        except BaseException:  # cancelled: the client left while the history was read
            uncount()
            raise
        self.open_event_streams.add(reader)
        ended = False

        def finished() -> None:
            nonlocal ended
            if not ended:
                ended = True
                subscription.close()
                self.open_event_streams.discard(reader)
                uncount()

        return _EventStreamResponse(reader.events(finished), self._send_timeout_seconds, finished,
                                    media_type="text/event-stream", headers=_STREAM_HEADERS)

    async def page(self, stream_id: str, request: Request) -> Response:
        """A page of the entries that pass the query's filters, as JSON, with cursors to the pages either side."""
        try:
            after = _entry_id_param(request.query_params, "after")
            before = _entry_id_param(request.query_params, "before")
            if after is not None and before is not None:
                raise QueryError("before cannot be combined with after: page toward older entries with before, "
                                 "toward newer ones with after")
            limit = _int_param(request.query_params, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
            query = parse_entry_query(request.query_params)
        except QueryError as error:
            return error_response(422, str(error))
        if not query.wants_everything and self._scans.full():
            return error_response(503, "too many filtered reads at once on this server; retry shortly",
                                  headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        try:
            async with self._scans.slot(needed=not query.wants_everything):
                found = await read_page(self.bus, bus_stream_id(stream_id), query, after=after, before=before,
                                        limit=limit)
            kept = (await self.bus.kept(bus_stream_id(stream_id))).length
        except BusUnavailable:
            return bus_unavailable_response()
        return Response(orjson.dumps(found.to_wire(kept)), media_type="application/json", headers=CORS_HEADERS)


class ScanSlots:
    """At most `running` filtered scans at once in this process, `waiting` more in line; beyond, refuse.

    A filtered read scans up to 10,000 entries (entry_pages): many at once would keep the event loop
    from every page and POST it also serves.
    """

    def __init__(self, running: int, waiting: int) -> None:
        self._semaphore = asyncio.Semaphore(running)
        self._capacity = running + waiting
        self._holding = 0  # scans running or in line

    def full(self) -> bool:
        """Whether a new scan would find no place, running or in line."""
        return self._holding >= self._capacity

    @contextlib.asynccontextmanager
    async def slot(self, *, needed: bool) -> AsyncIterator[None]:
        """Run the block in a slot (waiting for one), or at once when `needed` is false."""
        if not needed:
            yield
            return
        self._holding += 1
        try:
            async with self._semaphore:
                yield
        finally:
            self._holding -= 1


class EventStreamReader:
    """Buffers one SSE client's entries between the bus and the response, and writes them as events.

    What it holds is bounded (the bus cuts the history to its newest `stream.MAX_HISTORY_BYTES`): a
    reader more than `MAX_PENDING_ENTRIES` or `MAX_PENDING_BYTES` behind is ended, to resume from its
    last ID.
    """

    def __init__(self, keepalive_seconds: float) -> None:
        self._keepalive_seconds = keepalive_seconds
        # Batches of entries, or a notice for the client; an empty batch is the signal to end.
        self._batches: asyncio.Queue[list[StreamEntry] | str] = asyncio.Queue()
        self._pending = 0
        self._pending_bytes = 0
        self._overflowed = False
        self._ending = False

    def deliver(self, batch: list[StreamEntry]) -> None:
        """Take entries from the bus; never blocks, never grows without bound."""
        if self._overflowed:
            return
        self._pending += len(batch)
        self._pending_bytes += sum(stream_entry.entry.memory_size() for stream_entry in batch)
        if self._pending > MAX_PENDING_ENTRIES or self._pending_bytes > MAX_PENDING_BYTES:
            self._overflowed = True
        self._batches.put_nowait(batch)

    def tell(self, text: str) -> None:
        """Pass a notice about the stream on to the client, as an SSE comment."""
        self._batches.put_nowait(text)

    def tell_availability(self, available: bool) -> None:
        """Say, as an SSE comment, when the bus stops giving entries (Redis is away) and when it gives them again."""
        self.tell("the log bus is available again" if available else "the log bus is unavailable; reconnecting")

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
                    item = await asyncio.wait_for(self._batches.get(), self._keepalive_seconds)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                items = [item]
                with contextlib.suppress(asyncio.QueueEmpty):
                    while True:
                        items.append(self._batches.get_nowait())
                for piece in self._written(items):
                    yield piece
                if self._ending:
                    yield b": the server is stopping; reconnect with Last-Event-ID to resume\n\n"
                    return
                if self._overflowed and self._pending == 0:
                    yield b": too far behind; reconnect with Last-Event-ID to resume\n\n"
                    return
        finally:
            finished()

    def _written(self, items: list[list[StreamEntry] | str]) -> Iterator[bytes]:
        """The items as SSE text, in pieces of about `WRITE_CHUNK_BYTES`."""
        piece: list[bytes] = []
        size = 0
        for item in items:
            if isinstance(item, str):
                events: Iterable[bytes] = [b": " + item.encode() + b"\n\n"]
            else:
                self._pending -= len(item)
                self._pending_bytes -= sum(stream_entry.entry.memory_size() for stream_entry in item)
                # One at a time: the whole batch formatted at once would be held while a slow client
                # takes its first piece.
                events = map(format_event, item)
            for event in events:
                piece.append(event)
                size += len(event)
                if size >= WRITE_CHUNK_BYTES:
                    yield b"".join(piece)
                    piece, size = [], 0
        if piece:
            yield b"".join(piece)


class _PeerProgress:
    """Whether the reader of an event stream takes what it is sent: `stalled` once it took nothing for
    `timeout` seconds while it had something to take (measured, where the server tells, by the bytes
    it has not taken: `connection_abort.untaken_by_peer`)."""

    def __init__(self, scope: Scope, timeout: float) -> None:
        self._scope = scope
        self._timeout = timeout
        self._untaken = 0  # at the last look, plus what was sent since
        self._progress_at = time.monotonic()

    def sent(self, size: int) -> None:
        self._untaken += size

    def stalled(self) -> bool | None:
        """True or False; None where the server does not tell what the peer took."""
        untaken = untaken_by_peer(self._scope)
        if untaken is None:
            return None
        now = time.monotonic()
        if untaken < self._untaken or not untaken:
            self._progress_at = now
        self._untaken = untaken
        return now - self._progress_at >= self._timeout


class _EventStreamResponse(StreamingResponse):
    """A streaming response that gives up on a client that takes nothing for `send_timeout_seconds`.

    The server waits for a slow client before it takes more; one that stopped reading would
    otherwise hold its connection and buffers forever. A reader that takes anything at all is not
    one: a send may wait far longer for a slow one (the system's buffers drain a megabyte before
    the next write). One that took nothing is looked for at each send and each keep-alive, also on a
    stream gone quiet. Its connection is dropped, not closed: a close waits to write what the
    connection still holds (`connection_abort`).
    """

    def __init__(self, content: AsyncIterator[bytes], send_timeout_seconds: float, finished: Callable[[], None],
                 **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._send_timeout_seconds = send_timeout_seconds
        self._finished = finished
        self._scope: Scope = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._scope = scope
        answer_lasts(scope)
        try:
            await super().__call__(scope, receive, send)
        finally:
            # The body's own `finally` runs only if it started: a client that left before the answer
            # began had Starlette cancel it first, and its subscription and place were kept for good.
            self._finished()

    async def stream_response(self, send: Send) -> None:
        progress = _PeerProgress(self._scope, self._send_timeout_seconds)

        async def send_or_give_up(message: Message) -> None:
            if progress.stalled():
                raise _ClientStalled
            progress.sent(len(message.get("body", b"")))  # the server writes it at once, then waits
            sending = asyncio.ensure_future(send(message))
            look_every = min(PROGRESS_LOOK_SECONDS, self._send_timeout_seconds)
            waited = 0.0
            try:
                while not sending.done():
                    await asyncio.wait({sending}, timeout=look_every)
                    waited += look_every
                    stalled = progress.stalled()
                    # Where the server does not tell what the reader took: a send that waited too long.
                    if not sending.done() and (stalled or (stalled is None and waited >= self._send_timeout_seconds)):
                        raise _ClientStalled
            finally:
                sending.cancel()
            sending.result()

        try:
            await super().stream_response(send_or_give_up)
        except _ClientStalled:
            # Close the events at once (releasing the subscription) rather than whenever they are collected.
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                await close()
            if abort_connection(self._scope):
                await asyncio.sleep(0)  # the server sees the connection lost, and ends the request quietly


class _ClientStalled(Exception):
    """The client took nothing for too long: the response ends unfinished and the server closes it."""


def _no_count() -> None:
    """Nothing to uncount: no follower limits."""


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
    """The `Last-Event-ID` header as a parameter of that name (an error names the header), or nothing."""
    value = request.headers.get("last-event-id", "").strip()
    return {"Last-Event-ID": value} if value else {}


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
