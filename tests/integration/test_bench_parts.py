"""The benchmark's own parts against a real server: its page-session viewers and its paced sender.

The fan-out viewers attach to a real stream page's socket and count its rows; this guards the
benchmark's reading of the page (its socket query and handshake) against changes in the page or
in NiceGUI. The paced sender must deliver every line, in order, and stop on a refusal.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import aiohttp
import httpx
import pytest

from bench.pacing import send_at_rate
from bench.socket_viewers import open_socket_viewer
from harness.servers import AppProcess, running_app, wait_for_viewers


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with running_app("--history", "0") as app:
        yield app



async def test_a_socket_viewer_is_served_every_row(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    async with aiohttp.ClientSession() as http:
        viewer = await open_socket_viewer(http, server.url, stream)
        try:
            await wait_for_viewers(server.url, lambda count: count >= 1)
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


async def test_every_line_is_sent_once_in_order(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    # 20 ms apart: lines on different connections reach the server in the order sent, even on a busy
    # machine (at 3 ms apart, a CI run once stored two of them the other way round).
    sent = await send_at_rate(f"{server.url}/live/{stream}", count=60, rate=50, connections=4,
                              message=lambda n: f"line {n} & more=100%")
    assert sorted(sent) == list(range(60))
    assert all(sent[n] <= sent[n + 1] for n in range(59))  # each goes out in turn
    async with httpx.AsyncClient() as http:
        stored = (await http.get(f"{server.url}/live/{stream}/entries", params={"limit": 100})).json()
    assert [entry["message"] for entry in stored["entries"]] == [f"line {n} & more=100%" for n in range(60)]


async def test_a_refused_line_stops_the_run_with_the_reason(server: AppProcess) -> None:
    with pytest.raises(RuntimeError, match=r"refused line 0: 404 .*no such stream"):
        await send_at_rate(f"{server.url}/live/not-a-stream", count=3, rate=100, message=str)
