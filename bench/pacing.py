"""Send lines at a steady rate from this process, recording when each was sent.

aiohttp, not httpx: with hundreds of requests waiting for a connection, httpx's pool managed
about 150 POSTs/s here, far below the rates measured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import SimpleNamespace

import aiohttp

PADDING = " the quick brown fox jumps over the lazy dog, 0123456789"
CONNECTIONS = 16


async def _record_headers_sent(_: aiohttp.ClientSession, context: SimpleNamespace, __: object) -> None:
    # A request may wait here for a free connection; the clock starts when it actually goes out.
    if isinstance(context.trace_request_ctx, dict):
        context.trace_request_ctx["sent_at"] = time.time() * 1000


@asynccontextmanager
async def sender_session() -> AsyncIterator[aiohttp.ClientSession]:
    """Keep-alive connections for paced sending; idle ones close before uvicorn's 5 s keep-alive timeout."""
    tracing = aiohttp.TraceConfig()
    tracing.on_request_headers_sent.append(_record_headers_sent)
    connector = aiohttp.TCPConnector(limit=CONNECTIONS, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30),
                                     trace_configs=[tracing]) as session:
        yield session


async def send_at_rate(session: aiohttp.ClientSession, url: str, *, count: int, rate: float,
                       message: Callable[[int], str]) -> dict[int, float]:
    """POST `count` single-line form posts at `rate`/s.

    Returns, for each line number, the epoch milliseconds at which its request went out (with a
    session from `sender_session`). Raises if the server refuses any of them.
    """
    sent_at: dict[int, float] = {}
    started = time.monotonic()

    async def post(number: int) -> None:
        context = {"sent_at": time.time() * 1000}
        async with session.post(url, data={"message": message(number)}, trace_request_ctx=context) as response:
            if response.status != 204:
                raise RuntimeError(f"the server refused line {number}: {response.status} {await response.text()}")
        sent_at[number] = context["sent_at"]

    posts: list[asyncio.Task[None]] = []
    for number in range(count):
        delay = started + number / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        posts.append(asyncio.create_task(post(number)))
    await asyncio.gather(*posts)
    return sent_at
