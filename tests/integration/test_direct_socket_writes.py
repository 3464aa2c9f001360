"""Row messages written straight into pages' websockets: used when the socket is idle, and never out of order."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator

import aiohttp
import httpx
import pytest

from bench.light_viewers import BROWSER_DEFLATE_OFFER, open_light_viewer
from bench.socket_viewers import SocketViewer, open_socket_viewer
from harness.servers import AppProcess, running_app, wait_for_viewers

from .test_handler import read_all


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with running_app("--history", "0", "--client-requests-per-second", "0", "--stream-entries-per-second", "0") as app:
        yield app


def row_messages(app: AppProcess) -> dict[str, int]:
    return httpx.get(f"{app.url}/healthz").json()["row_messages"]


async def _wait_for_rows(viewers: list[SocketViewer], rows: int) -> None:
    for _ in range(300):
        if all(viewer.rows >= rows for viewer in viewers):
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"rows received: {[viewer.rows for viewer in viewers]}, expected {rows} each")


async def test_a_line_at_a_time_goes_straight_into_the_websocket(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    async with aiohttp.ClientSession() as http:
        viewer = await open_socket_viewer(http, server.url, stream, record_arrivals=True)
        try:
            await wait_for_viewers(server.url, lambda count: count >= 1)
            before = row_messages(server)
            for number in range(20):
                async with http.post(f"{server.url}/live/{stream}", data={"message": f"line {number}"}) as reply:
                    assert reply.status == 204
                await _wait_for_rows([viewer], number + 1)
            after = row_messages(server)
        finally:
            await viewer.close()
    assert viewer.arrived is not None and list(viewer.arrived) == [f"line {number}" for number in range(20)]
    # The socket was idle before each line, unless engine.io was sending a ping just then.
    written, queued = after["written"] - before["written"], after["queued"] - before["queued"]
    assert written + queued == 20 and written >= 18


async def test_a_burst_reaches_every_page_once_in_the_stream_order(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    senders, lines_each = 8, 250
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        viewers = [await open_socket_viewer(http, server.url, stream, record_arrivals=True) for _ in range(5)]
        try:
            await wait_for_viewers(server.url, lambda count: count >= 5)

            async def send(sender: int) -> None:
                for number in range(lines_each):
                    async with http.post(f"{server.url}/live/{stream}",
                                         data={"message": f"{sender}:{number}"}) as reply:
                        assert reply.status == 204

            await asyncio.gather(*(send(sender) for sender in range(senders)))
            await _wait_for_rows(viewers, senders * lines_each)
        finally:
            await asyncio.gather(*(viewer.close() for viewer in viewers))
    stored = [entry["message"] for entry in read_all(server.url, stream)]
    assert len(stored) == senders * lines_each
    for viewer in viewers:
        assert viewer.rows == len(stored)
        assert viewer.arrived is not None and list(viewer.arrived) == stored


@pytest.mark.parametrize("offer", [BROWSER_DEFLATE_OFFER, "permessage-deflate; server_max_window_bits=9",
                                   "permessage-deflate; client_max_window_bits; server_max_window_bits=15"])
async def test_compressed_sockets_of_each_window_get_frames_they_can_inflate(server: AppProcess, offer: str) -> None:
    stream = str(uuid.uuid4())
    async with aiohttp.ClientSession() as http:
        # Two kinds of sockets on one stream: each frame is made once per kind and shared.
        viewers = [await open_light_viewer(http, "127.0.0.1", server.port, stream, deflate=deflate)
                   for deflate in (offer, offer, None)]
        try:
            await wait_for_viewers(server.url, lambda count: count >= 3)
            before = row_messages(server)
            for number in range(10):
                # Text the compressor shortens by referring back (1,500 characters, past a 9-bit window).
                block = "".join(random.Random(number).choice("abcdefghij") for _ in range(1500))
                line = f"line {number} {block}{block}"
                async with http.post(f"{server.url}/live/{stream}", data={"message": line}) as reply:
                    assert reply.status == 204
                for _ in range(100):
                    if all(viewer.arrivals.rows > number for viewer in viewers):
                        break
                    await asyncio.sleep(0.05)
            after = row_messages(server)
        finally:
            for viewer in viewers:
                viewer.close()
    # Each viewer inflated (with the window its handshake named) and parsed every row message.
    assert [viewer.arrivals.rows for viewer in viewers] == [10, 10, 10]
    written, queued = after["written"] - before["written"], after["queued"] - before["queued"]
    assert written + queued == 30 and written >= 27
