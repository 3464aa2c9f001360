"""Send lines at a steady rate from this process, recording when each was sent.

The sender shares the machine with the server and the browser it measures, so it must cost as
little as it can: requests are written as prepared bytes on keep-alive connections and the
answers read with httptools' parser. aiohttp took half a core at 1,000 POSTs/s here (twice what
the server took), which it took away from the Chromium tab being timed. wrk cannot stamp each
request's send time, which the latency needs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlencode, urlsplit

import aiohttp
import httptools

PADDING = " the quick brown fox jumps over the lazy dog, 0123456789"
CONNECTIONS = 16


@asynccontextmanager
async def sender_session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session for the harness's own requests (health, pages); idle connections close within 2 s."""
    connector = aiohttp.TCPConnector(limit=CONNECTIONS, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


class _Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._body = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(ConnectionError(f"the server closed the connection: {exc}"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self._body += body

    def on_message_complete(self) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result((self._parser.get_status_code(), bytes(self._body)))
        self._body.clear()

    async def request(self, raw: bytes) -> tuple[float, int, bytes]:
        """Write one prepared request; its send time (epoch ms), status and body."""
        assert self._transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        sent_at = time.time() * 1000
        self._transport.write(raw)
        status, body = await self._answer
        return sent_at, status, body

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def form_post(host: str, path: str, fields: dict[str, str]) -> bytes:
    """The bytes of a keep-alive form POST."""
    body = urlencode(fields).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def send_at_rate(url: str, *, count: int, rate: float, message: Callable[[int], str],
                       connections: int = CONNECTIONS) -> dict[int, float]:
    """POST `count` single-line form posts at `rate`/s over `connections` keep-alive connections.

    Returns, for each line number, the epoch milliseconds at which its request was written. A line
    due while every connection is busy waits for one, and its clock starts when it goes out.
    Raises if the server refuses any of them.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None or parts.port is None:
        raise ValueError(f"the paced sender speaks plain HTTP to host:port, not {url!r}")
    loop = asyncio.get_running_loop()
    pool = [(await loop.create_connection(_Connection, parts.hostname, parts.port))[1] for _ in range(connections)]
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for connection in pool:
        idle.put_nowait(connection)
    sent_at: dict[int, float] = {}

    async def post(number: int) -> None:
        raw = form_post(parts.netloc, parts.path, {"message": message(number)})
        connection = await idle.get()
        sent_at[number], status, body = await connection.request(raw)
        idle.put_nowait(connection)
        if status != 204:
            raise RuntimeError(f"the server refused line {number}: {status} {body.decode(errors='replace')}")

    started = time.monotonic()
    posts: list[asyncio.Task[None]] = []
    try:
        for number in range(count):
            delay = started + number / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            posts.append(asyncio.create_task(post(number)))
        await asyncio.gather(*posts)
    finally:
        for task in posts:
            task.cancel()
        for connection in pool:
            connection.close()
    return sent_at
