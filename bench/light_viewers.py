"""Thousands of page sessions from one process: each a stream page's socket, read by a minimal client.

`bench.socket_viewers` drives each session with python-socketio, which costs more CPU per message
than the server spends sending it: at thousands of viewers the load generator, not the server,
would be measured. This client speaks just enough of the websocket, engine.io and socket.io
protocols to be a page session (connect, answer pings, answer the page's JavaScript questions as a
fresh browser would) and records when each row arrives. Rows are read as the page reads them.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
import uuid
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
import orjson

from dashboard.elements.rows_feed import ROWS_MESSAGE

from .socket_viewers import page_socket_query

_SOCKET_PATH = "/_nicegui_ws/socket.io/"
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA
_ROWS_EVENT_START = f'42["{ROWS_MESSAGE}"'
# What Chromium offers for per-message compression.
BROWSER_DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"


@dataclass
class Arrivals:
    """What one viewer received: how many rows, and for each row that carries its send time, the delay."""

    rows: int = 0
    delays_ms: list[float] = field(default_factory=list)


class LightViewer(asyncio.Protocol):
    """One page session's socket. `arrivals` fills as rows come; `closed` is set when the socket ends."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        # Messages the server compressed (when the socket asked for it) are inflated with one zlib
        # stream per connection, which also reads messages compressed without context.
        self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        self.arrivals = Arrivals()
        self.connected = asyncio.get_running_loop().create_future()
        self.closed = asyncio.Event()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._upgraded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(f"socket closed before the page connected: {exc}"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._upgraded:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self._buffer.startswith(b"HTTP/1.1 101"):
                self.connected.set_exception(ConnectionError(bytes(self._buffer[:200]).decode(errors="replace")))
                self.close()
                return
            self._inflate = zlib.decompressobj(-_server_window_bits(bytes(self._buffer[:end])))
            del self._buffer[:end + 4]
            self._upgraded = True
        self._read_frames()

    def send_text(self, text: str) -> None:
        """Send one text frame."""
        self._send_frame(_TEXT, text.encode())

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        """Send one masked frame (a client must mask)."""
        mask = os.urandom(4)
        length = len(payload)
        header = bytes([0x80 | opcode])
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        masked = bytes(byte ^ mask[n % 4] for n, byte in enumerate(payload))
        assert self._transport is not None
        self._transport.write(header + mask + masked)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _read_frames(self) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            length = buffer[1] & 0x7F
            start = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = struct.unpack_from("!H", buffer, 2)[0]
                start = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = struct.unpack_from("!Q", buffer, 2)[0]
                start = 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start:start + length])
            compressed = buffer[0] & 0x40  # RSV1: a permessage-deflate message
            del buffer[:start + length]
            if compressed:
                payload = self._inflate.decompress(payload + b"\x00\x00\xff\xff")
            self._frame(opcode, payload)

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == _TEXT:
            self._packet(payload.decode())
        elif opcode == _CLOSE:
            self.close()
        elif opcode == _PING:
            # uvicorn pings every 20 s and closes a socket that has not answered 20 s later, as a browser does.
            self._send_frame(_PONG, payload)

    def _packet(self, text: str) -> None:
        """One engine.io packet: open, ping, or a socket.io packet."""
        if text.startswith("0"):
            self.send_text("40")  # socket.io: connect to the default namespace (the handshake is implicit)
        elif text == "2":
            self.send_text("3")
        elif text.startswith("40"):
            if not self.connected.done():
                self.connected.set_result(None)
        elif text.startswith(_ROWS_EVENT_START):
            self._take_rows(orjson.loads(text[2:])[1]["rows"])
        elif text.startswith("42"):
            self._event(orjson.loads(text[2:]))

    def _event(self, event: list) -> None:
        name, message = event[0], event[1] if len(event) > 1 else {}
        if name == "run_javascript" and message.get("request_id"):
            answer = {"request_id": message["request_id"], "client_id": self.client_id, "result": None}
            self.send_text("42" + orjson.dumps(["javascript_response", answer]).decode())

    def _take_rows(self, rows: list[dict]) -> None:
        now_ms = time.time() * 1000
        arrivals = self.arrivals
        arrivals.rows += len(rows)
        for row in rows:
            sent_ms = sent_time_ms(row.get("message", ""))
            if sent_ms is not None:
                arrivals.delays_ms.append(now_ms - sent_ms)


def _server_window_bits(response_head: bytes) -> int:
    """The window the server compresses with, as its handshake answer says (a client inflates with no more)."""
    for line in response_head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-extensions":
            for parameter in value.split(";"):
                key, _, bits = parameter.strip().partition("=")
                if key == "server_max_window_bits" and bits.isdigit():
                    return int(bits)
    return zlib.MAX_WBITS


def message_with_send_time(number: int) -> str:
    """A log line that carries the time it was sent, for `sent_time_ms` at the other end."""
    return f"line {number} sent={time.time() * 1000:.3f}"


def sent_time_ms(message: str) -> float | None:
    """The send time a `message_with_send_time` line carries, or None."""
    _, found, sent = message.rpartition(" sent=")
    return float(sent) if found else None


async def open_light_viewer(http: aiohttp.ClientSession, host: str, port: int, stream_id: str, *,
                            affinity_cookie: bool = False, deflate: str | None = None) -> LightViewer:
    """Request the stream page like a browser, then open its socket and wait until the page is connected.

    With `affinity_cookie`, the cookies the page came with go with the socket's request, as a
    browser sends them (behind nginx they pick the UI process that made the page). `deflate` is a
    per-message compression offer for the socket to make (e.g. `BROWSER_DEFLATE_OFFER`).
    """
    async with http.get(f"http://{host}:{port}/{stream_id}") as response:
        response.raise_for_status()
        query = page_socket_query(await response.text())
        cookies = [header.split(";", 1)[0] for header in response.headers.getall("Set-Cookie", [])]
    query.update(document_id=str(uuid.uuid4()), tab_id=str(uuid.uuid4()), old_tab_id="null",
                 EIO="4", transport="websocket")
    loop = asyncio.get_running_loop()
    viewer = LightViewer(query["client_id"])
    await loop.create_connection(lambda: viewer, host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET {_SOCKET_PATH}?{urlencode(query)} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               + (f"Cookie: {'; '.join(cookies)}\r\n" if affinity_cookie and cookies else "")
               + (f"Sec-WebSocket-Extensions: {deflate}\r\n" if deflate else "")
               + "\r\n")
    assert viewer._transport is not None
    viewer._transport.write(request.encode())
    await asyncio.wait_for(viewer.connected, timeout=30)
    return viewer
