"""Writing a page's row messages straight into its websocket, framed once for every page alike.

engine.io sends each message through a writer task per socket: a queue, a `wait_for` (a task per
message on Python 3.11) and four layers of ASGI `send` before uvicorn frames it. For a stream
followed by hundreds of pages that is most of the CPU a row message costs. Here a message is
written to the connection at once, but only when engine.io has nothing queued for that socket and
its writer is waiting for the next message: then nothing sent earlier can be overtaken. Otherwise
it goes on engine.io's queue, as before.

A row message is the same for every page of a stream, so its websocket frame is made once per kind
of connection: uncompressed, or compressed with a given window (a short message goes uncompressed
to every connection; one queued for engine.io is framed by the websockets library, compressed as
the connection negotiated). That is possible because the
server's compression keeps no context from one message to the next (`server_no_context_takeover`,
negotiated for every connection): a compressed message then does not depend on the connection.
The frames are made by the websockets library itself, as it would make them for that connection.

`DirectWebSocketProtocol` is the websocket protocol class the server runs pages' sockets on; it puts
itself into the connection's ASGI scope, where socket.io keeps it with the socket's environ. A
socket that reached the server some other way (long polling, or a server without this class)
never gets direct writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Iterable
from typing import Any

from engineio.async_socket import AsyncSocket
from engineio.packet import Packet
from nicegui import core
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets import http11
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from ..connections import MAX_HEAD_BYTES

_SCOPE_KEY = "bunnylogs.websocket_protocol"
# A page's socket request may carry what any request may (a head of up to MAX_HEAD_BYTES: cookies of
# other apps on the same host, say). websockets reads it again with bounds of its own, 8 KiB a line and
# 128 headers (which it lets the environment set, read once at its import): a cookie of 8 KiB refused
# the page its socket. They are read at each request, so set here.
http11.MAX_LINE_LENGTH = max(http11.MAX_LINE_LENGTH, MAX_HEAD_BYTES)
http11.MAX_NUM_HEADERS = max(http11.MAX_NUM_HEADERS, MAX_HEAD_BYTES // 4)  # "a:\r\n", the least a header takes
_NAMESPACE = "/"
_PLAIN = 0  # the frame kind of a connection without compression; others are their window size in bits
# Messages from this size on are compressed for connections that negotiated compression.
COMPRESS_FROM_BYTES = 1024


class RowMessageCounts:
    """Row messages this process wrote straight to a websocket, and those it queued for engine.io (`/healthz`)."""

    written = 0
    queued = 0

    @classmethod
    def as_dict(cls) -> dict[str, int]:
        """`{"written": n, "queued": m}`."""
        return {"written": cls.written, "queued": cls.queued}


class SharedFrames:
    """One text message, framed once for each kind of connection it is written to."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self._frames: dict[int, bytes] = {}

    def frame_for(self, kind: int, protocol: DirectWebSocketProtocol) -> bytes:
        """The frame for connections of `kind`, made with `protocol`'s extensions the first time.

        A message shorter than `COMPRESS_FROM_BYTES` goes uncompressed to every connection (RFC 7692
        lets a sender leave any message uncompressed): a new deflate stream per message costs both
        ends more time than its few saved bytes are worth, and a quiet stream's line waits for it.
        """
        if len(self.text) < COMPRESS_FROM_BYTES:
            kind = _PLAIN
        frame = self._frames.get(kind)
        if frame is None:
            extensions = protocol.conn.extensions if kind != _PLAIN else []
            frame = self._frames[kind] = Frame(Opcode.TEXT, self.text).serialize(mask=False, extensions=extensions)
        return frame


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol, compressing without context, reachable from the scope for `write_now`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.ws_per_message_deflate:
            # uvicorn's own compression settings, with no context kept between messages.
            compression = ServerPerMessageDeflateFactory(server_no_context_takeover=True, server_max_window_bits=12,
                                                         client_max_window_bits=12, compress_settings={"memLevel": 5})
            self.conn = ServerProtocol(extensions=[compression], max_size=self.config.ws_max_size,
                                       logger=logging.getLogger("uvicorn.error"))
        self._frame_kind: int | None = None
        self._request_read = False

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._request_read and self.conn.handshake_exc is not None and not self.transport.is_closing():
            # websockets could not read the request and made its answer (a 400, 414 or 431), but gave
            # no event: uvicorn's protocol would hold the connection, unanswered and with no timeout.
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()

    def handle_connect(self, event: Request) -> None:
        self._request_read = True
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)  # no scope when the handshake was refused
        if scope is not None:
            scope[_SCOPE_KEY] = self
            self._frame_kind = _frame_kind(self.conn)

    def can_write_now(self) -> bool:
        """Open, past its handshake, and not holding back writes for a peer that reads slowly."""
        return (self.handshake_complete and not self.close_sent and self.initial_response is None
                and self.writable.is_set() and not self.transport.is_closing() and self.conn.state is State.OPEN)

    def write_message(self, message: SharedFrames) -> None:
        """Write `message` as one websocket text message: its shared frame, or one framed for this connection."""
        if self._frame_kind is None:
            self.conn.send_text(message.text)
            self.transport.write(b"".join(self.conn.data_to_send()))
        else:
            self.transport.write(message.frame_for(self._frame_kind, self))

    def abort(self) -> None:
        """Close the connection at once, dropping what the peer has not taken (if it is still open).

        Linger off: without it the kernel would keep the closed socket and its unsent bytes, trying
        to deliver them to a peer that reads nothing.
        """
        if not self.transport.is_closing() or self.transport.get_write_buffer_size():
            connection = self.transport.get_extra_info("socket")
            if connection is not None:
                with contextlib.suppress(OSError):
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()

    def unsent_bytes(self) -> int:
        """Bytes written to the connection that the kernel has not taken yet."""
        return self.transport.get_write_buffer_size()


def _frame_kind(conn: ServerProtocol) -> int | None:
    """Which shared frames suit the connection's negotiated extensions; None if none do."""
    if not conn.extensions:
        return _PLAIN
    match conn.extensions:
        case [PerMessageDeflate(local_no_context_takeover=True, local_max_window_bits=bits)]:
            return bits
    return None


def engine_sockets(socket_ids: Iterable[str]) -> list[AsyncSocket]:
    """The open engine.io sockets of a client's pages, from its socket.io IDs (NiceGUI keeps them privately)."""
    server = core.sio
    sockets: list[AsyncSocket] = []
    for socket_id in socket_ids:
        engine_id = server.manager.eio_sid_from_sid(socket_id, _NAMESPACE)
        socket = server.eio.sockets.get(engine_id) if engine_id else None
        if socket is not None and not socket.closed:
            sockets.append(socket)
    return sockets


def protocol_of(socket: AsyncSocket) -> DirectWebSocketProtocol | None:
    """The websocket connection an engine.io socket was opened on, if it was opened on one of ours."""
    environ = core.sio.environ.get(socket.sid)
    if environ is None:
        return None
    protocol = environ.get("asgi.scope", {}).get(_SCOPE_KEY)
    return protocol if isinstance(protocol, DirectWebSocketProtocol) else None


class PageSocket:
    """A page's engine.io socket, and the websocket connection of ours it was opened on (if it was)."""

    __slots__ = ("protocol", "socket")

    def __init__(self, socket: AsyncSocket) -> None:
        self.socket = socket
        self.protocol = protocol_of(socket)

    def busy(self) -> bool:
        """Something is still on its way to the page: queued for its socket, or written but not yet sent."""
        return bool(self.socket.queue.qsize() or (self.protocol is not None and self.protocol.unsent_bytes()))

    def write_if_idle(self, messages: list[SharedFrames]) -> bool:
        """Write the messages straight to the connection if nothing at all is on its way to the page.

        False, with nothing written, when something is (queued, or written and not yet sent) or a
        direct write could overtake it: then the caller gathers them or queues them (`send`). This
        is the path of nearly every row message, so it checks each condition once, allocating nothing.
        """
        socket, protocol = self.socket, self.protocol
        if (protocol is None or not socket.upgraded or socket.closed or protocol.unsent_bytes()
                or not idle_reader(socket.queue) or not protocol.can_write_now()):
            return False
        for message in messages:
            protocol.write_message(message)
        RowMessageCounts.written += len(messages)
        return True

    def send(self, packets: list[Packet], messages: list[SharedFrames]) -> None:
        """Write the messages straight to the connection if that keeps their order, else queue the packets.

        They are written when engine.io has nothing queued or being sent for the socket, and the
        connection is ours, open and not holding back writes for a peer that reads slowly.
        """
        socket, protocol = self.socket, self.protocol
        if (protocol is not None and socket.upgraded and not socket.closed and idle_reader(socket.queue)
                and protocol.can_write_now()):
            for message in messages:
                protocol.write_message(message)
            RowMessageCounts.written += len(messages)
            return
        for packet in packets:
            socket.queue.put_nowait(packet)
        RowMessageCounts.queued += len(messages)


def idle_reader(queue: asyncio.Queue[Any]) -> bool:
    """Nothing is in `queue`, and a task waits in `queue.get()` for the next item.

    An unfinished getter future is that wait. Once an item is put, the getter is done even before
    the waiting task has run: the item it took may not be handled yet, so this is False until it
    waits again.
    """
    if not queue.empty():
        return False
    for getter in queue._getters:  # type: ignore[attr-defined]  # noqa: SIM110 (a loop, no generator: hot path)
        if not getter.done():
            return True
    return False

