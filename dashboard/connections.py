"""Connections nobody can hold for free: header, body and idle timeouts, a cap on a request's head, and
a cap on open connections.

uvicorn (0.54) closes a connection left idle between requests (`timeout_keep_alive`), but waits
forever for the rest of a request's headers or body, reads headers of any size, and accepts
connections until the process runs out of file descriptors. `BoundedHttpProtocol` is its httptools
protocol with those limits;
`bounded_protocol` makes the class a server passes to `uvicorn.Config(http=...)`.

At the cap, a new connection closes the connection that has waited longest with no request in
progress (still sending its first headers, or idle between requests): slow clients cannot crowd
out a client that sends its request at once. When every connection is busy, the new one is
answered 503 with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import resource
import weakref
from collections import OrderedDict
from collections.abc import Sized
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, cast

from starlette.types import Scope
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from .client_identity import client_of
from .connection_abort import CONNECTION_EXTENSION, reset_connection, untaken_bytes
from .direct_answers import NO_CONTENT_EXTENSION, write_no_content
from .http_errors import CORS_HEADERS, RETRY_AFTER_SECONDS, error_response
from .security_headers import DATA_ANSWER_HEADERS

# File descriptors kept for what is not a client connection: Redis, files being served, the
# listening socket, the event loop's own.
FD_MARGIN = 100
MAX_CONNECTIONS = 4000
# Pipelined requests a connection may have waiting before its reading stays paused. uvicorn resumes
# reading whenever an answer is done, so a client that sends requests without reading the answers
# had the server read, parse and hold all of them (30 MB of POSTs held 480 MB).
MAX_PIPELINED = 64
# A request's line and headers together, in bytes. httptools joins a header that comes in pieces by
# copying what it has so far for each piece, so the time a head takes grows with the square of its
# size: one request with a 64 MiB header held the event loop for 1 to 2 s. nginx takes 8 KiB lines.
MAX_HEAD_BYTES = 64 * 1024
# After an error answer to a request not read to its end, what the client still sends is read and
# dropped for this long before the connection closes: closed with unread data, the connection is
# reset, and a client still sending may lose the answer.
LINGER_SECONDS = 2.0
# A client that half-closes once it sent its requests (`nc -N`, some health checks) still gets their
# answers, for up to this long, also one already under way (a large file's); an event stream's answer,
# which lasts until its client leaves (`connection_abort.answer_lasts`), is not waited for.
EOF_ANSWER_SECONDS = 5.0
# Chunk framing allowed per piece of body without counting against MAX_HEAD_BYTES: a chunk's size line
# and its ending take at most 8 bytes for a chunk under 64 KiB.
_FRAMING_ALLOWANCE = 16


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take over each part of a request, and how many connections may be open."""

    header_seconds: float
    body_seconds: float
    idle_seconds: float
    max_connections: int
    max_per_client: int = 0  # open connections from one address; 0: no cap
    # A client that takes nothing of what it is sent, while writing waits for it, for this long is cut off.
    send_seconds: float = 30.0


def bounded_protocol(limits: ConnectionLimits) -> type[BoundedHttpProtocol]:
    """The protocol class for one server (`uvicorn.Config(http=...)`), bound to `limits`."""
    malformed = _raw_error(400, "the request is not valid HTTP/1.1: its request line, headers or chunks could not "
                                "be read (two Content-Length headers, or one beside Transfer-Encoding, are refused)")
    headers_late = _raw_error(408, f"the request's headers did not all arrive within {limits.header_seconds:g} s")
    body_late = _raw_error(408, f"the request's body did not all arrive within {limits.body_seconds:g} s (fewer "
                                "bytes than its Content-Length, or sent too slowly)")
    return type("BoundedHttpProtocol", (BoundedHttpProtocol,), {
        "limits": limits, "waiting": OrderedDict(), "headers_late": headers_late, "body_late": body_late,
        "malformed": malformed, "head_too_large": _HEAD_TOO_LARGE})


def raise_fd_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; return the soft limit now in force.

    The usual soft limit (1,024) is what a crowd of slow clients exhausts; the hard limit is
    usually far higher, and asyncio's epoll has no use for the low one.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
        return hard
    return soft


def default_max_connections(fd_limit: int) -> int:
    """`MAX_CONNECTIONS`, or fewer when the process may not open that many files and `FD_MARGIN` more."""
    if fd_limit == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, fd_limit - FD_MARGIN))


def _all_written(cycle: RequestResponseCycle) -> bool:
    """Whether all of `cycle`'s answer has been written: complete, or its head written and then every byte
    its length promised (none for a HEAD, a 204 or a 304, which have no body and are not chunked)."""
    if cycle.response_complete:
        return True
    if not cycle.response_started:
        return False
    return cycle.scope["method"] == "HEAD" or (not cycle.chunked_encoding and cycle.expected_content_length == 0)


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with header, body and idle timeouts and a cap on connections."""

    limits: ClassVar[ConnectionLimits]
    # Connections with no request in progress, the longest waiting first: the ones the cap closes.
    waiting: ClassVar[OrderedDict[BoundedHttpProtocol, None]]
    # The 408s a timeout answers with, the 400 for what is not HTTP, the 431 for a head too large.
    headers_late: ClassVar[bytes]
    body_late: ClassVar[bytes]
    malformed: ClassVar[bytes]
    head_too_large: ClassVar[bytes]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.limits.idle_seconds  # type: ignore[assignment]  # uvicorn says int
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_body = False
        # Bytes received since the last request's headers were complete, while no body was being read:
        # the head in progress (at most one read more, when pipelined requests share a read).
        self._head_bytes = 0
        # While a body is read: bytes received that were not body (chunk sizes, extensions, trailers),
        # past an allowance for each piece of body in the same read. Trailers are headers, joined by
        # copying as they come. Counted over the reads that fall wholly within one body.
        self._framing_bytes = 0
        self._body_bytes_read = 0  # in the read being parsed, with the allowance
        self._unread_after_answer = 0  # body bytes that came after the request was answered
        self._lingering = False  # answered and closing: what arrives is dropped
        self._head_refused = False
        self._eof = False  # the client half-closed, and is owed answers
        self._dropped_bytes = 0  # while a refusal waits: what arrived meanwhile
        self._read_bytes = 0  # the size of the read being parsed
        self._refusal_due: bytes | None = None  # written once the requests pipelined before it are answered
        self._taking_look: asyncio.TimerHandle | None = None  # while writing waits: whether the client takes any
        # Requests whose answers are not complete, the one being answered first: uvicorn tells only the
        # newest (`self.cycle`) that its connection is gone, so one with a request pipelined behind it
        # was streamed to after its peer had left; and an error answer to a later one must wait for them.
        self._unanswered: list[RequestResponseCycle] = []
        # Those of them whose answers last until the client leaves (event streams: `answer_lasts`).
        self._lasting: set[RequestResponseCycle] = set()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if self._too_many_from(transport.get_extra_info("peername")):
            # Closed at once, without an answer: answering would mean holding it until its headers come.
            transport.close()
            return
        if len(self.connections) >= self.limits.max_connections and not self._close_longest_waiting():
            self.app = _AT_CAPACITY
        super().connection_made(transport)
        self.flow = _PipelineFlow(transport, self.pipeline)
        self.waiting[self] = None
        self._arm(self.limits.header_seconds, self.headers_late)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is None:  # refused in connection_made
            return
        self._disarm()
        self._stop_taking_look()
        self.waiting.pop(self, None)
        for cycle in self._unanswered:
            if not cycle.response_complete:
                cycle.disconnected = True
                cycle.message_event.set()
        self._unanswered.clear()
        self._lasting.clear()
        super().connection_lost(exc)

    def eof_received(self) -> bool | None:  # type: ignore[override]  # asyncio: True keeps the transport open
        if self._reading_body:
            self._drop_queued_body()
        owed = [cycle for cycle in self._unanswered if not cycle.response_complete and not cycle.disconnected]
        if (not owed or any(cycle in self._lasting for cycle in owed) or self._reading_body
                or (self._lingering and self._refusal_due is None) or self.transport.get_protocol() is not self):
            return None  # the transport closes (uvicorn's way): no answer is owed, or one that never ends
        self._eof = True
        self._disarm()
        self.waiting.pop(self, None)
        self._deadline = self.loop.call_later(EOF_ANSWER_SECONDS, self.transport.close)
        return True

    def pause_writing(self) -> None:
        super().pause_writing()
        self._look_at_taking(untaken_bytes(self.transport))

    def resume_writing(self) -> None:
        super().resume_writing()
        self._stop_taking_look()

    def _look_at_taking(self, untaken: int) -> None:
        self._stop_taking_look()
        self._taking_look = self.loop.call_later(self.limits.send_seconds, self._check_taking, untaken)

    def _stop_taking_look(self) -> None:
        if self._taking_look is not None:
            self._taking_look.cancel()
            self._taking_look = None

    def _check_taking(self, untaken_before: int) -> None:
        """Writing has waited for the client `send_seconds`: one that took something meanwhile is waited for
        again; one that took nothing is cut off, with what it was not sent (a close would wait to write it,
        for as long as the server runs: a client that asks for answers and never reads them held its
        connection and megabytes for good, also once it half-closed). Event streams look for themselves."""
        self._taking_look = None
        if self.transport.get_protocol() is not self:  # a websocket's now: it looks for itself
            return
        untaken = untaken_bytes(self.transport)
        if untaken < untaken_before:
            self._look_at_taking(untaken)
        else:
            reset_connection(self.transport)

    def _drop_queued_body(self) -> None:
        """The client ended in the body of a request queued behind one still answered: it will never be
        whole, so it goes (the one before it lost its answer when the connection closed at once)."""
        cycle = self.cycle
        queued = next((entry for entry in self.pipeline if entry[0] is cycle), None)
        if cycle is None or queued is None:
            return  # the request being answered: its app waits for a body that will not come; the close ends it
        self.pipeline.remove(queued)
        cycle.disconnected = True
        self._reading_body = False

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            if self._refusal_due is not None:
                self._dropped_bytes += len(data)
                if self._dropped_bytes > MAX_HEAD_BYTES:
                    self.transport.close()
            return
        reading_head = not self._reading_body
        cycle = self.cycle
        if reading_head:
            self._head_bytes += len(data)
        self._body_bytes_read = 0
        self._read_bytes = len(data)
        super().data_received(data)
        if not reading_head and self._reading_body and self.cycle is cycle:  # a read all within one body
            # A read's allowance covers its own framing only: many tiny chunks earn no credit for a trailer.
            self._framing_bytes += max(0, len(data) - self._body_bytes_read)
            if cycle is not None and cycle.response_complete:
                # Answered already (a 413, say): uvicorn parses the rest only to drop it. Past 64 KiB,
                # stop parsing it: drop what comes, and close.
                self._unread_after_answer += len(data)
                if self._unread_after_answer > MAX_HEAD_BYTES:
                    self._linger()
                    return
        if not self._lingering and not self.transport.is_closing() and self.transport.get_protocol() is self and (
                self._head_bytes > MAX_HEAD_BYTES if reading_head and not self._reading_body
                else self._reading_body and self._framing_bytes > MAX_HEAD_BYTES):
            self._refuse(self.head_too_large)
            return
        # Timers start once what arrived is parsed: a request that came whole needs none. A connection that
        # is closing, or whose refusal waits for the answers before it, needs none either.
        if self._deadline is not None or self._lingering:
            return
        if self._reading_body:
            self._arm(self.limits.body_seconds, self.body_late)
        elif self.timeout_keep_alive_task is None and self._between_requests():
            # Part of a request's headers (on a kept-alive connection, of the next request's).
            self._arm(self.limits.header_seconds, self.headers_late)

    def on_headers_complete(self) -> None:
        if max(self._head_bytes, self._read_bytes) > MAX_HEAD_BYTES and self._head_size() > MAX_HEAD_BYTES:
            # The whole head came in one read (this read's bytes were counted before it was parsed; when
            # requests before it came in the same read, they were not: the read's size tells).
            # The parser stops at the error, and uvicorn answers through send_400_response.
            self._head_refused = True
            raise _HeadTooLarge
        self._head_bytes = self._framing_bytes = self._unread_after_answer = 0
        self._disarm()
        self.waiting.pop(self, None)
        super().on_headers_complete()
        self._reading_body = not (self.parser.should_upgrade() and self._should_upgrade())
        cycle = self.cycle
        if cycle is None or cycle.scope is not self.scope:  # a websocket upgrade: no cycle of its own
            return
        self._unanswered = [*(earlier for earlier in self._unanswered if not earlier.response_complete), cycle]
        if not cycle.keep_alive:  # the request said `Connection: close`: its answer's end closes the connection
            cycle.transport = cast(asyncio.Transport, _CloseOnceAnswerIsRead(self, cycle))
        if self._lasting:
            self._lasting.intersection_update(self._unanswered)
        if self.scope["method"] == "POST":
            self.scope["extensions"] = {NO_CONTENT_EXTENSION: {"write": self._write_no_content}}
        elif self.scope["method"] == "GET":
            # Bound to this request's own cycle: a request pipelined behind it becomes `self.cycle` while
            # this one is still answered, and a follower that sent one escaped the stall check.
            self.scope["extensions"] = {CONNECTION_EXTENSION: {
                "abort": lambda _scope: self._abort_request(cycle),
                "untaken": lambda _scope: self._untaken_by_peer(cycle),
                "lasting": lambda _scope: self._answer_lasts(cycle)}}

    def on_body(self, body: bytes) -> None:
        self._body_bytes_read += len(body) + _FRAMING_ALLOWANCE
        super().on_body(body)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_body = False
        self._disarm()

    def on_response_complete(self) -> None:
        if self.transport.get_protocol() is not self:
            # The response's last, empty part came after its connection had become a websocket's: a
            # proxy that had the whole body reused the connection for the upgrade at once (a page's
            # answer ends so, through Starlette's middleware). The idle timer uvicorn arms now
            # would close that websocket `--idle-timeout-seconds` later.
            self.server_state.total_requests += 1
            return
        super().on_response_complete()
        if self._eof:  # the client half-closed: it is owed nothing more once what it sent is answered
            if not self.pipeline and not any(not cycle.response_complete and not cycle.disconnected
                                             for cycle in self._unanswered):
                if self._refusal_due is not None:
                    self.transport.write(self._refusal_due)
                self.transport.close()
            return
        if self._refusal_due is not None and not self.pipeline and not self.transport.is_closing() \
                and not any(not cycle.response_complete for cycle in self._unanswered):
            self._write_refusal_due()
        elif self.timeout_keep_alive_task is not None:  # idle until the next request
            self.waiting[self] = None

    def _write_refusal_due(self) -> None:
        """Refuse the request that came after those now answered (`_refuse`)."""
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None
        answer, self._refusal_due = self._refusal_due, None
        assert answer is not None
        self.transport.write(answer)
        self._linger()

    def _write_no_content(self, scope: Scope, header_lines: bytes) -> bool:
        """Answer the request of `scope` 204 straight to the connection (`direct_answers`), if it is the current one."""
        cycle = self.cycle
        return cycle is not None and cycle.scope is scope and write_no_content(cycle, header_lines)

    def _abort_request(self, cycle: RequestResponseCycle) -> bool:
        """Drop the connection with what it holds unsent (`connection_abort`), if `cycle`'s answer is still
        being sent on it (the one being sent: uvicorn answers pipelined requests one after another)."""
        if cycle.response_complete or self.transport.get_protocol() is not self:
            return False
        reset_connection(self.transport)
        cycle.disconnected = True  # at once: the app may end before the connection's loss is seen
        cycle.message_event.set()
        return True

    def _answer_lasts(self, cycle: RequestResponseCycle) -> None:
        """`cycle`'s answer lasts until the client leaves: one that half-closed is not waited for."""
        self._lasting.add(cycle)
        if self._eof and not cycle.response_complete and self.transport.get_protocol() is self:
            self.transport.close()

    def _untaken_by_peer(self, cycle: RequestResponseCycle) -> int | None:
        """`untaken_bytes` of the connection, while `cycle`'s answer is being sent on it."""
        if cycle.response_complete or self.transport.get_protocol() is not self:
            return None
        return untaken_bytes(self.transport)

    def send_400_response(self, msg: str) -> None:
        # uvicorn's own is plain text, without the headers every other answer carries.
        self._refuse(self.head_too_large if self._head_refused else self.malformed)

    def _head_size(self) -> int:
        """The size of the head just parsed: its request line and headers, as sent."""
        return len(self.url) + len(" HTTP/1.1\r\n\r\n") + 8 + sum(len(name) + len(value) + 4
                                                                for name, value in self.headers)

    def _refuse(self, answer: bytes) -> None:
        """Answer with `answer` (a whole error answer that closes the connection) and close. The answers to
        the requests before the one refused (pipelined) come first: it is written once they are done."""
        self._disarm()
        cycle = self.cycle
        # The request refused is this cycle's while its body is read, and comes after it otherwise.
        before: RequestResponseCycle | None = cycle
        if cycle is not None and self._reading_body:
            if not cycle.response_complete:
                cycle.disconnected = True
                cycle.message_event.set()
            for queued in [queued for queued in self.pipeline if queued[0] is cycle]:
                self.pipeline.remove(queued)  # never to be started
            self._unanswered = [unanswered for unanswered in self._unanswered if unanswered is not cycle]
            if cycle.response_started:  # its answer is under way: the refusal cannot follow it
                self.waiting.pop(self, None)
                self.transport.close()
                return
            before = None
        if self.pipeline or self._earlier_answer_unfinished() or (before is not None and not before.response_complete):
            self._refusal_due = answer  # on_response_complete writes it after the last of them
            self._reading_body = False
            # What comes meanwhile is dropped unparsed, up to MAX_HEAD_BYTES: past that (a stream's answer
            # may go on for hours, and junk behind it was read and dropped as fast as it came) the
            # connection closes. Reading goes on, so that a client that leaves is seen at once.
            self._lingering = True
            self._dropped_bytes = 0
            self.flow.resume_reading()  # uvicorn paused it for a request queued behind an answer under way
            self.waiting.pop(self, None)
            return
        self.transport.write(answer)
        self._linger()

    def _linger(self) -> None:
        """Close once the client had LINGER_SECONDS to read what was written, dropping what it sends meanwhile."""
        self._disarm()
        self._lingering = True
        # First in line for the connection cap to close: it has nothing more to do.
        self.waiting[self] = None
        self.waiting.move_to_end(self, last=False)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.transport.resume_reading()  # a pipelining client may have had it paused
        self._deadline = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def handle_websocket_upgrade(self) -> None:
        cycle = self.cycle
        if cycle is not None and not _all_written(cycle):
            # Pipelined behind an answer not all sent (an event stream, or one not begun): the websocket
            # would take the connection over, its frames mixed into that answer, whose request then never
            # learnt that its client left. That answer goes on, and the connection closes after it, the
            # upgrade unanswered. (A page's answer may be all written but not yet complete: nginx then
            # reuses the connection for the page's socket at once, as it may.)
            cycle.keep_alive = False
            return
        # The websocket protocol owns the connection from here, and its pings tell a live peer.
        self._disarm()
        self.waiting.pop(self, None)
        super().handle_websocket_upgrade()

    def _earlier_answer_unfinished(self) -> bool:
        """Whether a request before the current one (pipelined) is still being answered: an answer
        written now would go into the middle of that one's."""
        return any(not earlier.response_complete for earlier in self._unanswered if earlier is not self.cycle)

    def _between_requests(self) -> bool:
        """No request in progress on a connection this protocol still serves (not closing, not a websocket)."""
        return ((self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing()
                and self.transport.get_protocol() is self)

    def _arm(self, seconds: float, answer: bytes) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._time_out, answer)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _time_out(self, answer: bytes) -> None:
        """Answer 408 unless a response is under way, and close; the request's app sees a disconnect."""
        self._deadline = None
        self.waiting.pop(self, None)
        cycle = self.cycle
        if (cycle is None or not cycle.response_started or cycle.response_complete) \
                and not self._earlier_answer_unfinished():
            self.transport.write(answer)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    def _too_many_from(self, peer: Any) -> bool:
        """Whether the client `peer` is (its address; an IPv6 host's /64) already holds `max_per_client` open
        connections.

        Counted over every open connection, websockets and event streams included: a crowd of
        sockets or slow bodies from one address cannot take the whole cap. Loopback addresses are
        not capped: they are a proxy on this host (which should cap its clients itself, e.g. nginx's
        `limit_conn`) or the machine's own users.
        """
        cap = self.limits.max_per_client
        if not cap or not isinstance(peer, tuple) or not peer or _is_loopback(peer[0]):
            return False
        client = client_of(peer[0])  # an IPv6 host by its /64, as every per-client limit counts it
        held = sum(1 for connection in self.connections
                   if client_of((getattr(connection, "client", None) or ("",))[0]) == client)
        return held >= cap

    def _close_longest_waiting(self) -> bool:
        if not self.waiting:
            return False
        longest, _ = self.waiting.popitem(last=False)
        longest._disarm()
        longest.transport.close()
        return True


class _CloseOnceAnswerIsRead:
    """The connection as a request's cycle sees it. The cycle closes it after its answer when the request or
    the answer said `Connection: close`: at once, with the request's body still coming (a 413, answered
    before the body was read), the close was a reset, and the client lost the answer (urllib, which says
    `Connection: close`, got a broken pipe about one time in five). Then the connection lingers instead.
    (Weak references: the cycle holds this, and a cycle of references per request burdens the collector.)"""

    def __init__(self, protocol: BoundedHttpProtocol, cycle: RequestResponseCycle) -> None:
        self._transport = protocol.transport
        self._protocol = weakref.ref(protocol)
        self._cycle = weakref.ref(cycle)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def close(self) -> None:
        protocol, cycle = self._protocol(), self._cycle()
        if protocol is not None and cycle is not None and cycle.more_body and not self._transport.is_closing():
            protocol._linger()
        else:
            self._transport.close()


class _HeadTooLarge(Exception):
    """Raised in the parser's callback to stop at a head over MAX_HEAD_BYTES that came in one read."""


class _PipelineFlow(FlowControl):
    """uvicorn's flow control, but reading stays paused while `MAX_PIPELINED` requests wait their turn."""

    def __init__(self, transport: asyncio.Transport, pipeline: Sized) -> None:
        super().__init__(transport)
        self._pipeline = pipeline

    def resume_reading(self) -> None:
        if len(self._pipeline) < MAX_PIPELINED:
            super().resume_reading()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _raw_error(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 error answer, JSON with CORS like every other, that closes the connection."""
    body = json.dumps({"detail": detail}).encode()
    head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "content-type: application/json",
            *(f"{name.lower()}: {value}" for name, value in {**CORS_HEADERS, **DATA_ANSWER_HEADERS}.items()),
            f"content-length: {len(body)}", "connection: close"]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + body


_HEAD_TOO_LARGE = _raw_error(431, f"the request's line and headers take more than {MAX_HEAD_BYTES // 1024} KiB")

_AT_CAPACITY = cast(ASGI3Application, error_response(
    503, "the server has as many connections open as it takes; retry shortly",
    headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"}))
