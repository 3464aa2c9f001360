"""When a row message may skip engine.io's queue (only while its writer waits with nothing queued), and a page
socket's request that websockets cannot read."""

from __future__ import annotations

import asyncio
import zlib
from types import SimpleNamespace

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets import http11
from websockets.extensions.permessage_deflate import PerMessageDeflate

from dashboard.connections import MAX_HEAD_BYTES
from dashboard.elements.socket_writer import COMPRESS_FROM_BYTES, DirectWebSocketProtocol, SharedFrames, idle_reader


async def test_a_reader_waiting_on_an_empty_queue_is_idle() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    assert not idle_reader(queue)  # nobody reads it yet
    reader = asyncio.ensure_future(asyncio.wait_for(queue.get(), 10))  # as engine.io's writer waits
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert idle_reader(queue)
    queue.put_nowait("message")
    # The reader has been handed the message but has not run yet: it may still be on its way out.
    assert not idle_reader(queue)
    assert await reader == "message"
    assert not idle_reader(queue)  # and it has not come back to wait


async def test_a_queue_holding_messages_is_not_idle_even_with_a_reader_waiting() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    readers = [asyncio.ensure_future(queue.get()) for _ in range(2)]
    await asyncio.sleep(0)
    queue.put_nowait("first")
    queue.put_nowait("second")
    queue.put_nowait("third")  # two getters were woken; one message stays queued
    assert not idle_reader(queue)
    assert sorted(await asyncio.gather(*readers)) == ["first", "second"]
    assert queue.qsize() == 1 and not idle_reader(queue)


def _deflate_connection() -> SimpleNamespace:
    """What `SharedFrames` reads of a page's socket: its negotiated extensions (deflate, no context kept)."""
    deflate = PerMessageDeflate(remote_no_context_takeover=False, local_no_context_takeover=True,
                                remote_max_window_bits=12, local_max_window_bits=12)
    return SimpleNamespace(conn=SimpleNamespace(extensions=[deflate]))


@pytest.mark.parametrize("size", [60, COMPRESS_FROM_BYTES - 1])
def test_a_short_row_message_goes_uncompressed_even_where_compression_was_negotiated(size: int) -> None:
    text = (b'42["bunnylogs_rows",{"rows":[{"message":"' + b"x" * size)[:size - 4] + b'"}]}'
    assert len(text) == size
    frame = SharedFrames(text).frame_for(12, _deflate_connection())  # type: ignore[arg-type]
    assert frame[0] == 0x81, "FIN and a text opcode, RSV1 (compressed) not set"
    assert frame.endswith(text) and len(frame) == size + (2 if size < 126 else 4)


def test_a_long_row_message_is_compressed_once_for_every_connection_of_its_kind() -> None:
    text = b'42["bunnylogs_rows",{"rows":[' + b'{"message":"a line of log text"},' * 100 + b'{}]}]'
    assert len(text) >= COMPRESS_FROM_BYTES
    boundary = SharedFrames(text[:COMPRESS_FROM_BYTES]).frame_for(12, _deflate_connection())  # type: ignore[arg-type]
    assert boundary[0] == 0xC1, "a message of exactly COMPRESS_FROM_BYTES is compressed"
    message = SharedFrames(text)
    frame = message.frame_for(12, _deflate_connection())  # type: ignore[arg-type]
    assert frame[0] == 0xC1, "FIN, RSV1 (compressed) and a text opcode"
    length, start = (frame[1], 2) if frame[1] < 126 else (int.from_bytes(frame[2:4], "big"), 4)
    assert length == len(frame) - start < len(text)
    inflate = zlib.decompressobj(-12)
    assert inflate.decompress(frame[start:] + b"\x00\x00\xff\xff") == text
    assert message.frame_for(12, _deflate_connection()) is frame  # type: ignore[arg-type]


class _Transport(asyncio.Transport):
    """What a protocol writes, and whether it closed."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)


def _page_socket_protocol() -> tuple[DirectWebSocketProtocol, _Transport]:
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("a request websockets could not read reaches no app")

    config = Config(app=app, ws="websockets-sansio", log_level="warning")
    config.load()
    protocol = DirectWebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    transport = _Transport()
    protocol.connection_made(transport)
    return protocol, transport


async def test_a_socket_request_websockets_cannot_read_is_answered_and_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """websockets answers such a request itself but gives uvicorn no event: the connection was held for ever,
    unanswered (so were pages' sockets with a cookie of 8 KiB, before its bounds were raised to ours)."""
    monkeypatch.setattr(http11, "MAX_LINE_LENGTH", 100)  # a bound this request passes
    protocol, transport = _page_socket_protocol()
    protocol.data_received(b"GET /_nicegui_ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: test\r\n"
                           b"Upgrade: websocket\r\nConnection: Upgrade\r\nCookie: " + b"c" * 200 + b"\r\n\r\n")
    assert transport.written.startswith(b"HTTP/1.1 431 ") and transport.closed


def test_websockets_reads_any_head_the_server_takes() -> None:
    assert http11.MAX_LINE_LENGTH >= MAX_HEAD_BYTES and http11.MAX_NUM_HEADERS >= MAX_HEAD_BYTES // 4
