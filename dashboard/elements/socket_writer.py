"""Writing a page's row messages straight into its websocket, when nothing else is on the way to it.

engine.io sends each message through a writer task per socket: a queue, a `wait_for` (a task per
message on Python 3.11) and four layers of ASGI `send` before uvicorn frames it. For a stream
followed by hundreds of pages that is most of the CPU a row message costs. Here uvicorn's own
websocket protocol frames the message (so per-message compression and the connection's state stay
its own) and writes it to the connection at once, but only when engine.io has nothing queued for
that socket and its writer is waiting for the next message: then nothing sent earlier can be
overtaken. Otherwise the message goes on engine.io's queue, as before.

`DirectWebSocketProtocol` is the websocket protocol class the server runs with; it puts itself into
the connection's ASGI scope, where socket.io keeps it with the socket's environ. A socket that
reached the server some other way (long polling, or a server without this class) simply never
gets direct writes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engineio.async_socket import AsyncSocket
from nicegui import core
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

_SCOPE_KEY = "bunnylogs.websocket_protocol"


class RowMessageCounts:
    """Row messages this process wrote straight to a websocket, and those it queued for engine.io (`/healthz`)."""

    written = 0
    queued = 0

    @classmethod
    def as_dict(cls) -> dict[str, int]:
        """`{"written": n, "queued": m}`."""
        return {"written": cls.written, "queued": cls.queued}


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol, reachable from the connection's scope for `write_now`."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)  # no scope when the handshake was refused
        if scope is not None:
            scope[_SCOPE_KEY] = self

    def can_write_now(self) -> bool:
        """Open, past its handshake, and not holding back writes for a peer that reads slowly."""
        return (self.handshake_complete and not self.close_sent and self.initial_response is None
                and self.writable.is_set() and not self.transport.is_closing())

    def write_text(self, text: bytes) -> None:
        """Frame `text` (UTF-8) as one websocket text message and write it to the connection."""
        self.conn.send_text(text)
        self.transport.write(b"".join(self.conn.data_to_send()))

    def unsent_bytes(self) -> int:
        """Bytes written to the connection that the kernel has not taken yet."""
        return self.transport.get_write_buffer_size()


def protocol_of(socket: AsyncSocket) -> DirectWebSocketProtocol | None:
    """The websocket connection an engine.io socket was opened on, if it was opened on one of ours."""
    environ = core.sio.environ.get(socket.sid)
    if environ is None:
        return None
    protocol = environ.get("asgi.scope", {}).get(_SCOPE_KEY)
    return protocol if isinstance(protocol, DirectWebSocketProtocol) else None


def write_now(socket: AsyncSocket, messages: list[bytes]) -> bool:
    """Write encoded engine.io messages straight to the socket's connection, if that keeps their order.

    True when written; False when they must go on the socket's queue instead: something is queued
    or being sent, the socket is not (yet) a websocket of ours, or the connection holds back writes.
    """
    protocol = _writable_protocol(socket)
    if protocol is None:
        RowMessageCounts.queued += len(messages)
        return False
    for message in messages:
        protocol.write_text(message)
    RowMessageCounts.written += len(messages)
    return True


def idle_reader(queue: asyncio.Queue[Any]) -> bool:
    """Nothing is in `queue`, and a task waits in `queue.get()` for the next item.

    An unfinished getter future is that wait. Once an item is put, the getter is done even before
    the waiting task has run: the item it took may not be handled yet, so this is False until it
    waits again.
    """
    return queue.empty() and any(not getter.done() for getter in queue._getters)  # type: ignore[attr-defined]


def _writable_protocol(socket: AsyncSocket) -> DirectWebSocketProtocol | None:
    if not socket.upgraded or socket.closed or not idle_reader(socket.queue):
        return None
    protocol = protocol_of(socket)
    return protocol if protocol is not None and protocol.can_write_now() else None
