"""A crowd of page opens at once (a UI process restarting, its browsers coming back): every page follows."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import aiohttp
import pytest

from bench.socket_viewers import SocketViewer, open_socket_viewer
from harness.servers import AppProcess, running_app, wait_for_viewers

HERD = 100


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with running_app("--history", "10") as app:
        yield app


async def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def test_pages_that_answer_javascript_late_or_never_still_follow(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    # Each third of the crowd answers the page's JavaScript at once, after its 1 s timeout, or never.
    delays = [(0.0, 1.5, None)[n % 3] for n in range(HERD)]
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
        async with http.post(f"{server.url}/live/{stream}", data={"message": "history"}) as reply:
            assert reply.status == 204
        started = time.monotonic()
        viewers: list[SocketViewer] = list(await asyncio.gather(*[
            open_socket_viewer(http, server.url, stream, javascript_delay_s=delay) for delay in delays]))
        opened_in = time.monotonic() - started
        try:
            await wait_for_viewers(server.url, lambda count: count >= HERD, timeout_s=30)
            async with http.post(f"{server.url}/live/{stream}", data={"message": "live"}) as reply:
                assert reply.status == 204

            async def all_served() -> bool:
                return all(viewer.rows >= 2 for viewer in viewers)
            await _wait_until(all_served, 30, "not every page got its history and the live line")
            assert [viewer.rows for viewer in viewers] == [2] * HERD
        finally:
            await asyncio.gather(*[viewer.close() for viewer in viewers])
    assert opened_in < 10, f"opening the crowd took {opened_in:.1f} s: not a herd"
