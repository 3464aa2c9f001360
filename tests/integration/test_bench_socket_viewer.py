"""The fan-out benchmark's viewers attach to a real stream page's socket and count its rows.

This guards the benchmark's reading of the page (its socket query and handshake) against changes
in the page or in NiceGUI.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import aiohttp
import pytest

from bench.socket_viewers import open_socket_viewer

from ..support import AppProcess, running_app


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with running_app("--history", "0") as app:
        yield app


async def test_a_socket_viewer_is_served_every_row(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    async with aiohttp.ClientSession() as http:
        viewer = await open_socket_viewer(http, server.url, stream)
        try:
            for _ in range(100):  # the page subscribes a moment after its socket connects
                async with http.get(f"{server.url}/healthz") as reply:
                    if (await reply.json())["viewers"] >= 1:
                        break
                await asyncio.sleep(0.05)
            for batch in range(3):
                entries = [{"message": f"{batch}-{n}"} for n in range(100)]
                async with http.post(f"{server.url}/live/{stream}", json=entries) as reply:
                    assert reply.status == 204
            for _ in range(100):
                if viewer.rows >= 300:
                    break
                await asyncio.sleep(0.05)
            assert viewer.rows == 300
        finally:
            await viewer.close()
