"""The benchmark's minimal page session answers the server's websocket pings, as a browser does."""

from __future__ import annotations

import asyncio

from bench.light_viewers import LightViewer

UPGRADED = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


class WrittenBytes(asyncio.Transport):
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data


def unmasked_frame(frame: bytes) -> tuple[int, bytes]:
    """The opcode and payload of one short masked frame (as a client sends)."""
    assert frame[1] & 0x80, "a client's frame is masked"
    length = frame[1] & 0x7F
    mask, payload = frame[2:6], frame[6:6 + length]
    return frame[0] & 0x0F, bytes(byte ^ mask[n % 4] for n, byte in enumerate(payload))


async def test_a_ping_is_answered_with_a_pong_of_its_payload() -> None:
    viewer = LightViewer("client")
    transport = WrittenBytes()
    viewer.connection_made(transport)
    viewer.data_received(UPGRADED + bytes([0x89, 4]) + b"\x01\x02\x03\x04")  # FIN + ping, 4 bytes unmasked
    opcode, payload = unmasked_frame(bytes(transport.written))
    assert (opcode, payload) == (0xA, b"\x01\x02\x03\x04")
