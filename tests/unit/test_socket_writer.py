"""When a row message may skip engine.io's queue: only while its writer waits with nothing queued."""

from __future__ import annotations

import asyncio
import zlib
from types import SimpleNamespace

import pytest
from websockets.extensions.permessage_deflate import PerMessageDeflate

from dashboard.elements.socket_writer import COMPRESS_FROM_BYTES, SharedFrames, idle_reader


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
