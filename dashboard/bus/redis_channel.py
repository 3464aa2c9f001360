"""One lean connection to Redis for the bus's hot command: written at once, its reply parsed by hiredis.

redis-py's client costs a quiet line about 0.4 ms on its way to Redis and back (its pool, retry
wrapper, timeouts and stream reader, run cold once per line), against 0.17 ms for the bare socket
on this machine. The bus's appends, one script call per group of POSTs, go through this channel
instead: commands are packed by hiredis, written straight to the transport, and their replies
parsed by hiredis as they arrive, in order. Everything else the bus does goes through redis-py.

It speaks to a `redis://` or `rediss://` URL (user, password, database; TLS verified against the
system's certificates). For any other form of URL `supports` says no, and the bus keeps redis-py.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import hiredis
from redis.exceptions import (
    AuthenticationError,
    DataError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    RedisError,
    ResponseError,
)
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    TimeoutError as RedisTimeoutError,
)

DEFAULT_PORT = 6379
# Error replies by their first word, as redis-py raises them; any other is a ResponseError.
_ERRORS_BY_PREFIX: dict[str, type[ResponseError]] = {
    "OOM": OutOfMemoryError, "NOSCRIPT": NoScriptError, "NOPERM": NoPermissionError,
}
_AUTH_ERRORS = ("NOAUTH", "WRONGPASS")


class Address:
    """Where the channel connects, and as whom, read from a Redis URL."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss") or parts.query or not parts.hostname:
            raise ValueError(f"not a plain redis:// or rediss:// URL: {parts.scheme}://…")
        self.host = parts.hostname
        self.port = parts.port or DEFAULT_PORT
        self.tls = parts.scheme == "rediss"
        # As redis-py reads them: an empty user name or password is none.
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        database = parts.path.lstrip("/")
        self.database = int(database) if database else 0


def supports(url: str) -> bool:
    """Whether `RedisChannel` can connect to this URL the way redis-py would."""
    try:
        Address(url)
    except ValueError:
        return False
    return True


def error_of(reply: hiredis.ReplyError) -> RedisError:
    """The redis-py exception for an error reply."""
    text = str(reply)
    prefix = text.split(" ", 1)[0]
    if prefix in _AUTH_ERRORS:
        return AuthenticationError(text)
    return _ERRORS_BY_PREFIX.get(prefix, ResponseError)(text)


class _Replies(asyncio.Protocol):
    """The transport's protocol: hands each reply, in order, to the oldest command waiting for one."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._reader = hiredis.Reader()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # (uvloop's transports are not asyncio's class)

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        try:
            while (reply := self._reader.gets()) is not False:
                future = self.waiting.popleft()
                if future.done():
                    continue  # its caller gave up waiting
                if isinstance(reply, hiredis.ReplyError):
                    future.set_exception(error_of(reply))
                else:
                    future.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as error:  # not Redis, or a reply nobody asked for
            self.fail(RedisConnectionError(f"Redis sent what cannot be read: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail_waiting(RedisConnectionError(f"the connection to Redis was lost: {exc or 'closed by the server'}"))

    def fail(self, error: Exception) -> None:
        """Close the connection and fail every command waiting on it."""
        if self.transport is not None:
            self.transport.abort()
            self.transport = None
        self._fail_waiting(error)

    def _fail_waiting(self, error: Exception) -> None:
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class RedisChannel:
    """Commands to one Redis over one connection, made on first use and again after it is lost."""

    def __init__(self, url: str, *, timeout_s: float, connect_timeout_s: float) -> None:
        self._address = Address(url)
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._replies: _Replies | None = None
        self._connecting: asyncio.Lock | None = None
        self._closed = False

    async def call(self, *args: bytes | str | int | float) -> Any:
        """Send one command and return its reply (raising redis-py's exceptions, as its client would).

        A command is not repeated after a failure: it may have been carried out.
        """
        replies = self._replies
        if replies is None or replies.transport is None:
            replies = await self._connect()
        return await self._send(replies, [args])[0]

    async def call_each(self, *commands: tuple[bytes | str | int | float, ...]) -> list[Any]:
        """Send the commands together (one write) and return their replies, in order.

        If one of them fails, that error is raised once every reply is in.
        """
        results = await self.call_each_settled(*commands)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results

    async def call_each_settled(self, *commands: tuple[bytes | str | int | float, ...]) -> list[Any]:
        """Like `call_each`, but each command's error takes its reply's place instead of being raised.

        Only making the connection, or a command that cannot be packed, raises.
        """
        replies = self._replies
        if replies is None or replies.transport is None:
            replies = await self._connect()
        return await asyncio.gather(*self._send(replies, commands), return_exceptions=True)

    def close(self) -> None:
        """Close the connection for good; commands still waiting fail, and later ones too."""
        self._closed = True
        if self._replies is not None:
            self._replies.fail(RedisConnectionError("the channel to Redis was closed"))
            self._replies = None

    def _send(self, replies: _Replies, commands: Sequence[tuple[bytes | str | int | float, ...]]
              ) -> list[asyncio.Future[Any]]:
        """Write the commands at once; their futures, which take the replies in order."""
        assert replies.transport is not None
        loop = asyncio.get_running_loop()
        # Packed first: a command that cannot be packed must not leave a future waiting for a reply.
        try:
            packed = [hiredis.pack_command(args) for args in commands]  # type: ignore[arg-type]  # (its stub: a 1-tuple)
        except (TypeError, ValueError) as error:  # as redis-py's client says it
            raise DataError(f"a command that cannot be sent to Redis: {error}") from error
        futures = [loop.create_future() for _ in commands]
        replies.waiting.extend(futures)
        replies.transport.write(packed[0] if len(packed) == 1 else b"".join(packed))
        # The replies come in order: once the last is in, all are.
        timer = loop.call_later(self._timeout_s, self._time_out, replies, futures[-1])
        futures[-1].add_done_callback(lambda _: timer.cancel())
        return futures

    def _time_out(self, replies: _Replies, future: asyncio.Future[Any]) -> None:
        if not future.done():  # the connection is in an unknown state: start a new one
            replies.fail(RedisTimeoutError(f"Redis did not answer within {self._timeout_s:g} s"))
            if self._replies is replies:
                self._replies = None

    async def _connect(self) -> _Replies:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._closed:
                raise RedisConnectionError("the channel to Redis was closed")
            if self._replies is not None and self._replies.transport is not None:
                return self._replies  # another caller connected meanwhile
            address = self._address
            try:
                async with asyncio.timeout(self._connect_timeout_s):
                    _, replies = await asyncio.get_running_loop().create_connection(
                        _Replies, address.host, address.port, ssl=ssl.create_default_context() if address.tls else None)
                    try:
                        await self._hello(replies)
                    except BaseException:
                        replies.fail(RedisConnectionError("the connection to Redis was not set up"))
                        raise
            except TimeoutError as error:
                raise RedisTimeoutError(f"Redis did not accept a connection within {self._connect_timeout_s:g} s") \
                    from error
            except OSError as error:
                raise RedisConnectionError(f"cannot connect to Redis at {address.host}:{address.port}: {error}") \
                    from error
            if self._closed:  # closed while this connection was being made
                replies.fail(RedisConnectionError("the channel to Redis was closed"))
                raise RedisConnectionError("the channel to Redis was closed")
            self._replies = replies
            return replies

    async def _hello(self, replies: _Replies) -> None:
        """Log in and pick the database, as redis-py does on each new connection."""
        address = self._address
        if address.password is not None:
            credentials = (address.username, address.password) if address.username else (address.password,)
            await self._send(replies, [("AUTH", *credentials)])[0]
        if address.database:
            await self._send(replies, [("SELECT", address.database)])[0]
