"""Send lines at a steady rate from this process, recording when each was sent.

aiohttp, not httpx: with hundreds of requests waiting for a connection, httpx's pool managed
about 150 POSTs/s here, far below the rates measured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp

PADDING = " the quick brown fox jumps over the lazy dog, 0123456789"
CONNECTIONS = 16


@asynccontextmanager
async def sender_session() -> AsyncIterator[aiohttp.ClientSession]:
    """Keep-alive connections for paced sending; idle ones close before uvicorn's 5 s keep-alive timeout."""
    connector = aiohttp.TCPConnector(limit=CONNECTIONS, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


async def send_at_rate(session: aiohttp.ClientSession, url: str, *, count: int, rate: float,
                       message: Callable[[int], str]) -> dict[int, float]:
    """POST `count` single-line form posts at `rate`/s.

    Returns, for each line number, the epoch milliseconds just before it was sent. Raises if the
    server refuses any of them.
    """
    sent_at: dict[int, float] = {}
    started = time.monotonic()

    async def post(number: int) -> None:
        sent_at[number] = time.time() * 1000
        async with session.post(url, data={"message": message(number)}) as response:
            if response.status != 204:
                raise RuntimeError(f"the server refused line {number}: {response.status} {await response.text()}")

    posts: list[asyncio.Task[None]] = []
    for number in range(count):
        delay = started + number / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        posts.append(asyncio.create_task(post(number)))
    await asyncio.gather(*posts)
    return sent_at
