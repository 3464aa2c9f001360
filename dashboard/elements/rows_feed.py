"""The rows transport: batches of rows written straight onto a page's socket, encoded once per batch.

Rows do not go through `run_method` (the browser would eval() each call's source, and Chromium keeps
every evaluated source alive) nor through NiceGUI's per-client outbox: that path encodes, numbers
and schedules every message once per viewer, some 300 µs of CPU per row message per viewer. Here a
batch the bus hands to all of a stream's viewers is encoded once into one socket.io packet, and
that same packet is written to each viewer's websocket (`socket_writer`), or put on its engine.io
socket queue when something is already on the way to it. The browser half is `rows_feed.js`.

What this gives up is NiceGUI's replay of unacknowledged messages after a brief reconnect; instead
the page says which entry it has last (`resume`), and the view re-subscribes after it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import orjson
from engineio import packet as engine_packet
from nicegui import Client
from nicegui.element import Element

from ..entry import StreamEntry
from .send_when_idle import SendWhenIdle
from .socket_backlog import MAX_WAITING_MESSAGES, cut_off
from .socket_writer import PageSocket, SharedFrames, engine_sockets

log = logging.getLogger("uvicorn.error")

# The socket.io event that carries rows: {"rows": [row, ...], "history": true for rows that were in
# the stream before the viewer came, "older": true for rows older than any the page holds, to go
# above them (what a reloaded page held before, or older lines)}. On a merged view of several streams,
# "stream" is the page's index of the stream all the rows came from, or each row has its own as "s"
# (a merged history, or merged older rows).
ROWS_MESSAGE = "bunnylogs_rows"
# Rows go in messages of at most about this size: it bounds what a page holds in the server while it
# takes them.
MAX_MESSAGE_BYTES = 128 * 1024
# Rows gathered for a page whose socket is still sending earlier ones, beyond which it counts as
# having stopped reading (the same bound as an event stream's, see readback).
MAX_GATHERED_BYTES = 8 * 1024 * 1024
# The page's index of the stream rows came from: one for all of them, one per row (a merged
# history), or None on a page of one stream.
StreamTag = int | list[int] | None


class RowMessages:
    """Row messages as engine.io packets (for a socket's queue) and as the text engine.io sends (made once)."""

    def __init__(self, packets: list[engine_packet.Packet]) -> None:
        self.packets = packets
        self._wire: list[SharedFrames] | None = None

    @property
    def wire(self) -> list[SharedFrames]:
        """Each packet as engine.io encodes it for a websocket, framed once for every page alike."""
        if self._wire is None:
            self._wire = [SharedFrames(packet.encode().encode()) for packet in self.packets]
        return self._wire

    def newest_first(self) -> RowMessages:
        """The same messages in the opposite order."""
        return RowMessages(self.packets[::-1])


class EncodedBatch:
    """One batch of entries as JSON arrays of at most about `MAX_MESSAGE_BYTES` each (one row may be larger)."""

    def __init__(self, entries: list[StreamEntry], streams: list[int] | None = None) -> None:
        """`streams`: each entry's stream index in the page, sent in its row (a merged history is one page's own)."""
        rows = [stream_entry.to_wire() for stream_entry in entries]
        if streams is not None:
            for row, stream in zip(rows, streams, strict=True):
                row["s"] = stream
        self.pieces = _pieces(rows)
        self.size = sum(len(piece) for piece in self.pieces)
        self._messages: dict[tuple[bool, bool, int | None], RowMessages] = {}
        self._live: RowMessages | None = None
        self._live_stream: int | None = None

    def live_messages(self, stream: int | None) -> RowMessages:
        """`messages(history=False, stream=stream)`, kept at hand for the page after page a live batch goes to."""
        if self._live is None or self._live_stream != stream:
            self._live, self._live_stream = self.messages(history=False, stream=stream), stream
        return self._live

    def messages(self, *, history: bool, older: bool = False, stream: int | None = None) -> RowMessages:
        """The batch as row messages, made once and shared by every page it is sent to (as the same stream)."""
        made = self._messages.get((history, older, stream))
        if made is None:
            made = self._messages[history, older, stream] = RowMessages(
                [rows_packet(piece, history=history, older=older, stream=stream) for piece in self.pieces])
        return made


class _LastBatch:
    """The encoding of the batch encoded last: the bus hands one list to every viewer of a stream in turn."""

    batch: list[StreamEntry] | None = None
    encoded: EncodedBatch | None = None


def encoded(entries: list[StreamEntry]) -> EncodedBatch:
    """`entries` encoded, once for all the viewers the same list is handed to one after the other."""
    if _LastBatch.batch is not entries or _LastBatch.encoded is None:
        _LastBatch.batch, _LastBatch.encoded = entries, EncodedBatch(entries)
    return _LastBatch.encoded


def rows_packet(rows_json: str, *, history: bool, older: bool = False,
                stream: int | None = None) -> engine_packet.Packet:
    """An engine.io message carrying the socket.io event `ROWS_MESSAGE` with rows already encoded as JSON."""
    flags = f'"history":{"true" if history else "false"},"older":{"true" if older else "false"}'
    if stream is not None:
        flags += f',"stream":{int(stream)}'
    return engine_packet.Packet(engine_packet.MESSAGE, f'2["{ROWS_MESSAGE}",{{{flags},"rows":{rows_json}}}]')


def joined(pieces: list[str]) -> list[str]:
    """JSON arrays joined into as few arrays of at most about `MAX_MESSAGE_BYTES` as keep their order."""
    result: list[str] = []
    parts: list[str] = []
    size = 0
    for piece in pieces:
        inner = piece[1:-1]
        if not inner:
            continue
        if parts and size + len(inner) > MAX_MESSAGE_BYTES:
            result.append(f"[{','.join(parts)}]")
            parts, size = [], 0
        parts.append(inner)
        size += len(inner) + 1
    if parts:
        result.append(f"[{','.join(parts)}]")
    return result


class RowsFeed:
    """Sends rows to the browser half of one element, which lists `RowsFeed.script` in its dependencies.

    Live rows go at once when the page's socket has nothing waiting; while it has, they are gathered
    and go together as soon as it is free. A page whose socket stops taking them is cut off.
    """

    script: ClassVar[Path] = Path(__file__).with_suffix(".js")

    def __init__(self, element: Element) -> None:
        self._element = element
        self._cut_off = False  # the page stopped reading: nothing more goes to it
        self._suspended = False  # the socket dropped: nothing goes until the page says where it resumes
        self._gathered_bytes = 0
        self._live: SendWhenIdle[tuple[int | None, str]] = SendWhenIdle(self._send_pieces, busy=self._socket_busy)
        self._socket_ids: tuple[str, ...] = ()
        self._page_sockets: list[PageSocket] = []

    @property
    def address(self) -> dict[str, str]:
        """What `listenForRows` in the browser listens for (pass it as a prop)."""
        return {"message": ROWS_MESSAGE}

    def send_history(self, entries: list[StreamEntry], stream: StreamTag = None) -> None:
        """Send rows that were in the stream before the page came (or that it missed), at once, in order."""
        if not self._usable():
            return
        if isinstance(stream, list):
            messages = EncodedBatch(entries, stream).messages(history=True)
        else:
            messages = encoded(entries).messages(history=True, stream=stream)
        self._put(messages, self._sockets())

    def send_older(self, entries: list[StreamEntry], streams: list[int] | None = None) -> None:
        """Send rows older than any the page holds, to go above them (at once); `streams` as for `EncodedBatch`.

        Newest piece first: the page puts each above the rows it holds, so each must be older than
        the piece before it.
        """
        if self._usable():
            batch = encoded(entries) if streams is None else EncodedBatch(entries, streams)
            self._put(batch.messages(history=True, older=True).newest_first(), self._sockets())

    def waiting_messages(self) -> int:
        """Messages sent to the page that its browser has not taken yet (NiceGUI's outbox and the socket's queue)."""
        return _waiting(self._element.client, self._sockets())

    def send(self, entries: list[StreamEntry], stream: int | None = None) -> None:
        """Send live rows (of the page's stream `stream`) after everything sent before; nothing once the
        element is deleted or suspended."""
        if not self._usable():
            return
        if not self._live.waiting:
            sockets = self._sockets()
            if (len(sockets) == 1 and len(self._element.client.outbox.messages) <= MAX_WAITING_MESSAGES
                    and sockets[0].write_if_idle(encoded(entries).live_messages(stream).wire)):
                return
            if not _busy(sockets):
                self._put(encoded(entries).messages(history=False, stream=stream), sockets)
                return
        batch = encoded(entries)
        self._gathered_bytes += batch.size
        if self._gathered_bytes > MAX_GATHERED_BYTES:
            self._stop_reading_page()
            return
        self._live.add([(stream, piece) for piece in batch.pieces])

    def suspend(self) -> None:
        """The page's socket dropped: send nothing, and forget what was gathered, until `resume`."""
        self._suspended = True
        self._live.cancel()
        self._gathered_bytes = 0

    def resume(self) -> None:
        """Send again (the caller re-sends what the page missed, as history, first)."""
        self._suspended = False

    def close(self) -> None:
        """Send nothing more (the element is going)."""
        self._live.cancel()

    def _usable(self) -> bool:
        return not (self._element.is_deleted or self._cut_off or self._suspended)

    def _send_pieces(self, pieces: list[tuple[int | None, str]]) -> None:
        self._gathered_bytes = 0
        if self._usable():
            self._put(RowMessages([rows_packet(piece, history=False, stream=stream)
                                   for stream, run in _runs(pieces) for piece in joined(run)]), self._sockets())

    def _socket_busy(self) -> bool:
        return _busy(self._sockets())

    def _sockets(self) -> list[PageSocket]:
        """The page's open sockets, looked up again only when they changed (a stream's every batch asks)."""
        current: dict[str, str] = getattr(self._element.client, "_socket_to_document_id", None) or {}
        page_sockets, known = self._page_sockets, self._socket_ids
        if len(current) == len(known) == len(page_sockets) and _same_open_sockets(current, known, page_sockets):
            return page_sockets
        socket_ids = tuple(current)
        page_sockets = [PageSocket(socket) for socket in engine_sockets(socket_ids)]
        self._socket_ids, self._page_sockets = socket_ids, page_sockets
        return page_sockets

    def _put(self, messages: RowMessages, sockets: list[PageSocket]) -> None:
        if _waiting(self._element.client, sockets) > MAX_WAITING_MESSAGES:
            self._stop_reading_page()
            return
        for page_socket in sockets:
            page_socket.send(messages.packets, messages.wire)

    def _stop_reading_page(self) -> None:
        self._cut_off = True
        self._live.cancel()
        log.warning("a page of client %s stopped reading its socket: cut off", self._element.client.id)
        cut_off(self._element.client)


def _same_open_sockets(current: dict[str, str], known: tuple[str, ...], page_sockets: list[PageSocket]) -> bool:
    """The client's socket IDs are still those looked up, and none of their sockets has closed."""
    for socket_id in known:
        if socket_id not in current:
            return False
    for page_socket in page_sockets:  # noqa: SIM110 (every row message asks: a loop, no generator made)
        if page_socket.socket.closed:
            return False
    return True


def _busy(sockets: list[PageSocket]) -> bool:
    return any(page_socket.busy() for page_socket in sockets)


def _waiting(client: Client, sockets: list[PageSocket]) -> int:
    return len(client.outbox.messages) + sum(page_socket.socket.queue.qsize() for page_socket in sockets)


def _runs(pieces: list[tuple[int | None, str]]) -> list[tuple[int | None, list[str]]]:
    """Gathered pieces as runs of consecutive pieces of one stream, in order."""
    runs: list[tuple[int | None, list[str]]] = []
    for stream, piece in pieces:
        if runs and runs[-1][0] == stream:
            runs[-1][1].append(piece)
        else:
            runs.append((stream, [piece]))
    return runs


def _pieces(rows: list[dict]) -> list[str]:
    """`rows` as JSON arrays of at most about `MAX_MESSAGE_BYTES` each (one row may be larger alone)."""
    encoded_rows = orjson.dumps(rows)
    if len(encoded_rows) <= MAX_MESSAGE_BYTES or len(rows) == 1:
        return [encoded_rows.decode()]
    half = len(rows) // 2
    return [*_pieces(rows[:half]), *_pieces(rows[half:])]
