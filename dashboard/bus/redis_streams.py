"""The Redis bus: one Redis Stream per log stream, shared by every BunnyLogs process.

Writers XADD through one Lua script call per group of concurrent POSTs (see `group_commit`), with
an approximate MAXLEN. Each process runs a single reader task that XREADs all the streams its
viewers follow, so Redis connections do not grow with viewers. Both go over connections of their
own (`redis_channel`), which skip redis-py's client on the path of every line; everything else
goes through redis-py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Sequence
from typing import cast
from urllib.parse import urlsplit, urlunsplit

import orjson
import redis
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, OutOfMemoryError, RedisError, ResponseError
from redis.typing import KeyT, StreamIdT

from ..entry import LogEntry, StreamEntry
from ..protocol import BATCH_KEY_SECONDS, MAX_ENTRY_ID_PART, entry_id_order
from ..stream import Bus, BusFull, BusUnavailable, KeptCount
from . import redis_channel, redis_epoch
from .group_commit import GroupCommit
from .redis_keys import EPOCH_KEY, batch_key_of, stream_id_from_key, stream_key, wake_key

log = logging.getLogger(__name__)

ENTRY_FIELD = b"e"
READ_BLOCK_MS = 1000
READ_COUNT = 1000
READ_RETRIES_AFTER_ANSWER = 50
# Above READ_BLOCK_MS, so that a blocking XREAD never trips the socket timeout.
SOCKET_TIMEOUT_S = 5.0
READY_TIMEOUT_S = 1.0
# How long closing the bus waits for Redis to finish what is under way (uvicorn's own grace comes first).
CLOSE_WAIT_S = 3.0
RETRY_DELAYS_S = (0.1, 0.25, 0.5, 1.0, 2.0)

# Appends each POST's entries to its stream and renews the stream's expiry; a script runs whole,
# so a batch never lands in part. A POST with a batch key (`Idempotency-Key`) already recorded
# stores nothing and gets the IDs that key stored; else its first and last ID are recorded under
# the key, in the same run, so that no repeat can slip in between.
# KEYS: for each POST its stream key and its batch key (the stream key again for none: every key
# a script names must be one the ACL user may use); repeats allowed.
# ARGV: max length, seconds to keep a stream, seconds to remember a batch key, then for each POST
# 1 if it has a batch key (else 0), its entry count, and its entries. Returns each POST's entry IDs.
APPEND_SCRIPT = """
local max_length, keep_seconds, batch_seconds = ARGV[1], ARGV[2], ARGV[3]
local replies, at = {}, 4
for k = 1, #KEYS, 2 do
  local key, batch = KEYS[k], ARGV[at] == '1' and KEYS[k + 1]
  at = at + 1
  local count = tonumber(ARGV[at])
  local known = batch and redis.call('GET', batch)
  local ids = {}
  if known then
    local first, last = string.match(known, '^(%S+) (%S+)$')
    for _, row in ipairs(redis.call('XRANGE', key, first, last)) do ids[#ids + 1] = row[1] end
  else
    for n = at + 1, at + count do
      ids[#ids + 1] = redis.call('XADD', key, 'MAXLEN', '~', max_length, '*', 'e', ARGV[n])
    end
    redis.call('EXPIRE', key, keep_seconds)
    if batch and count > 0 then
      redis.call('SET', batch, ids[1] .. ' ' .. ids[#ids], 'EX', batch_seconds, 'NX')
    end
  end
  replies[#replies + 1] = ids
  at = at + count + 1
end
return replies
"""
APPEND_SCRIPT_SHA = hashlib.sha1(APPEND_SCRIPT.encode()).hexdigest()
_LAST_POSSIBLE_ID = (MAX_ENTRY_ID_PART, MAX_ENTRY_ID_PART)
# One POST's part of a group: its stream key, its batch key (None for none) and its entries, encoded.
AppendItem = tuple[str, str | None, list[bytes]]

# Reply shapes of redis-py (RESP2, undecoded), which its type hints leave open; from a channel
# (hiredis) an entry's fields are a flat list instead.
StreamRows = list[tuple[bytes, dict[bytes, bytes] | list[bytes]]]
XReadReply = list[tuple[bytes, StreamRows]]


def redacted(url: str) -> str:
    """The URL without its password, to be shown in messages and logs (one that cannot be read: its scheme)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # e.g. "redis://[::1": what follows the scheme may hold a password
        return url.partition("://")[0] + "://…"
    if not password:
        return url
    login = f"{parts.username or ''}:***@"
    return urlunsplit(parts._replace(netloc=login + parts.netloc.rsplit("@", 1)[1]))


def check_reachable(url: str) -> None:
    """Raise `BusUnavailable` with a one-line reason unless Redis at `url` answers a PING."""
    try:
        with redis.Redis.from_url(url, socket_timeout=3.0, socket_connect_timeout=3.0) as client:
            client.ping()
    except (RedisError, OSError, ValueError) as error:
        raise BusUnavailable(f"cannot reach Redis at {redacted(url)}: {error}") from None


class RedisBus(Bus):
    """Streams in Redis, capped near `max_length` and dropped after `retention_seconds` idle."""

    name = "redis"
    keeps_entries_across_restarts = True

    def __init__(self, url: str, *, max_length: int, retention_seconds: int) -> None:
        super().__init__()
        self._url = url
        self._max_length = max_length
        self._retention_seconds = retention_seconds
        self._redis: Redis | None = None
        self._append_script: AsyncScript | None = None
        self._reader: asyncio.Task[None] | None = None
        # Last ID read per followed stream; the reader continues from there.
        self._cursors: dict[str, str] = {}
        # The reader also watches this private stream, so a newly followed stream joins at once.
        self._wake_key = wake_key(uuid.uuid4().hex)
        self._wake_cursor = "0-0"
        # The data's generation this process has seen (see `redis_epoch`); one start-over at a time.
        self._epoch = ""
        self._epoch_lock = asyncio.Lock()
        self._closing = False
        self._appends: GroupCommit[AppendItem, list[str]] = GroupCommit(self._append_group)
        # The appends' and the reader's own connections, when the URL is one they speak (else both go
        # through redis-py's client).
        self._channel: redis_channel.RedisChannel | None = None
        self._read_channel: redis_channel.RedisChannel | None = None

    async def start(self) -> None:
        """Connect, check Redis answers, and start the reader task."""
        # After a Redis restart every pooled connection is dead, and the first command on one fails.
        # That one failure is retried once on a new connection: the command never reached the new
        # server (the old one is gone), so it cannot be stored twice.
        self._redis = Redis.from_url(self._url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=5.0,
                                     retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError])
        try:
            self._epoch = await redis_epoch.adopt_epoch(self._redis)
        except (RedisError, OSError) as error:
            await self._redis.aclose()
            raise BusUnavailable(f"cannot reach Redis at {redacted(self._url)}: {error}") from error
        self._append_script = self._redis.register_script(APPEND_SCRIPT)
        if redis_channel.supports(self._url):
            self._channel = redis_channel.RedisChannel(self._url, timeout_s=SOCKET_TIMEOUT_S, connect_timeout_s=5.0)
            self._read_channel = redis_channel.RedisChannel(self._url, timeout_s=SOCKET_TIMEOUT_S,
                                                            connect_timeout_s=5.0)
            try:  # it logs in as redis-py did; a URL that works for one and not the other is found now
                await self._channel.call("PING")
            except (RedisError, OSError) as error:
                await self.close()
                raise BusUnavailable(f"cannot reach Redis at {redacted(self._url)}: {error}") from error
        self._reader = asyncio.create_task(self._read_forever(), name="bunnylogs redis reader")

    async def ready(self) -> str | None:
        """None when Redis answers within a second, else why not (for anyone: no address in it).

        It also checks that Redis still holds the data this process saw, and starts over if not.
        """
        try:
            seen = await asyncio.wait_for(self._client().get(EPOCH_KEY), READY_TIMEOUT_S)
            if redis_epoch.as_text(seen) != self._epoch:
                await self._check_epoch()
        except (RedisError, OSError, TimeoutError, BusUnavailable) as error:
            log.warning("not ready: Redis does not answer: %s", error or type(error).__name__)
            return "the log bus (Redis) does not answer; POSTs get 503 until it does"
        return None

    async def history_lost(self, stream_id: str) -> str | None:
        """Why the stream's earlier entries are gone, when a process saw Redis lose them (within retention)."""
        try:
            since = await redis_epoch.lost_since(self._client(), stream_id)
        except (RedisError, OSError, BusUnavailable):
            return None
        return None if since is None else redis_epoch.lost_text(since)

    async def close(self) -> None:
        """Let the writes under way end and stop the reader (for at most `CLOSE_WAIT_S`), then close the connections."""
        self._closing = True
        try:
            # A Redis that stopped answering would hold each step for the socket's whole timeout.
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self._appends.drain()
                if self._reader is not None:
                    self._reader.cancel()
                    # A cancel that lands inside redis-py's read timeout can be absorbed (Python 3.11);
                    # the loop then stops on `_closing` after its current blocking read.
                    await asyncio.wait({self._reader})
                if self._redis is not None:
                    with contextlib.suppress(RedisError, OSError):
                        await self._redis.delete(self._wake_key)
        except TimeoutError:
            log.warning("Redis did not answer within %g s while the bus closed: closed without waiting for it",
                        CLOSE_WAIT_S)
            if self._reader is not None:
                self._reader.cancel()
        if self._redis is not None:
            await self._redis.aclose()
        for channel in (self._channel, self._read_channel):
            if channel is not None:
                channel.close()

    async def publish(self, stream_id: str, entries: Sequence[LogEntry], *, batch_key: str | None = None) -> list[str]:
        """Append the entries, together with those of other POSTs waiting at the same moment."""
        encoded = [orjson.dumps(entry.to_dict()) for entry in entries]
        recorded_as = None if batch_key is None else batch_key_of(stream_id, batch_key)
        try:
            return await self._appends.submit((stream_key(stream_id), recorded_as, encoded))
        except OutOfMemoryError as error:
            raise BusFull(f"Redis is out of memory: {error}") from error
        except (RedisError, OSError) as error:
            raise BusUnavailable(f"Redis did not take the entries: {error}") from error

    async def _append_group(self, group: list[AppendItem]) -> list[list[str]]:
        """One script call for the whole group; each item gets its entries' IDs back."""
        args: list[bytes | int] = [self._max_length, self._retention_seconds, BATCH_KEY_SECONDS]
        keys: list[str] = []
        for key, recorded_as, encoded in group:
            keys += [key, recorded_as or key]
            args += [0 if recorded_as is None else 1, len(encoded)]
            args.extend(encoded)
        replies = cast(list[list[bytes]], await self._append_script_reply(keys, args))
        return [[entry_id.decode() for entry_id in ids] for ids in replies]

    async def _append_script_reply(self, keys: list[str], args: list[bytes | int]) -> object:
        """The append script's reply: through the channel when there is one, else through redis-py's client."""
        if self._append_script is None:
            raise BusUnavailable("the Redis bus has not been started")
        if self._channel is None:
            return await self._append_script(keys=keys, args=args)
        # Not repeated after a lost connection: it may have been carried out, and its POST answers 503
        # (a client repeats it under its Idempotency-Key). A connection Redis closed while idle is
        # seen closed before the next call, which then makes a new one.
        try:
            return await self._channel.call("EVALSHA", APPEND_SCRIPT_SHA, len(keys), *keys, *args)
        except NoScriptError:  # a Redis that restarted, or whose scripts were flushed
            return await self._channel.call("EVAL", APPEND_SCRIPT, len(keys), *keys, *args)

    async def _backlog(self, stream_id: str, *, history: int, after: str | None,
                       limit: int | None = None) -> tuple[list[StreamEntry], str | None]:
        """Read the backlog from Redis, and have the reader follow the stream from its newest entry."""
        # Where the live entries begin must not be later than what the backlog read: with an empty backlog,
        # a newest read after it could be an entry that came in between, and the reader would start past it.
        try:
            if after is not None:
                newest_before = await self._newest_id(stream_id)
                backlog = await (self._newest_after(stream_id, after, count=limit) if limit is not None
                                 else self._range_after(stream_id, after, count=None))
            else:
                newest_before = None  # an empty stream: the reader takes all that comes into it
                rows = cast(StreamRows, await self._client().xrevrange(stream_key(stream_id), count=max(history, 1)))
                backlog = [_decode(entry_id, fields) for entry_id, fields in reversed(rows)]
            newest = backlog[-1].id if backlog else newest_before
            if stream_id not in self._cursors:
                # The shared reader starts from the newest entry the stream holds, never from a
                # client's own resume point: that only filters what its subscriber is handed.
                self._cursors[stream_id] = newest or "0-0"
                await self._wake_reader()
        except (RedisError, OSError) as error:
            raise BusUnavailable(f"cannot read stream history from Redis: {error}") from error
        if after is None and history <= 0:
            return [], newest  # it was read only to learn where the live entries begin
        return backlog, newest

    async def read(self, stream_id: str, *, after: str | None, limit: int) -> list[StreamEntry]:
        """Up to `limit` entries, oldest first: the first ones after `after`, or without it the newest."""
        if limit <= 0:
            return []
        try:
            if after is not None:
                return await self._range_after(stream_id, after, count=limit)
            rows = cast(StreamRows, await self._client().xrevrange(stream_key(stream_id), count=limit))
        except (RedisError, OSError) as error:
            raise BusUnavailable(f"cannot read the stream from Redis: {error}") from error
        return [_decode(entry_id, fields) for entry_id, fields in reversed(rows)]

    async def read_before(self, stream_id: str, *, before: str, limit: int) -> list[StreamEntry]:
        """Up to `limit` entries older than `before`, oldest first: the newest ones before it."""
        if limit <= 0 or entry_id_order(before) == (0, 0):
            return []  # nothing can come before it, and Redis refuses it as the exclusive end of a range
        try:
            rows = cast(StreamRows, await self._client().xrevrange(stream_key(stream_id), max=f"({before}",
                                                                   count=limit))
        except (RedisError, OSError) as error:
            raise BusUnavailable(f"cannot read the stream from Redis: {error}") from error
        return [_decode(entry_id, fields) for entry_id, fields in reversed(rows)]

    async def kept(self, stream_id: str) -> KeptCount:
        """How many entries the stream holds now and the newest one's ID, in one `XINFO STREAM` (one command, so
        both at one moment; a `MULTI` would do too, but Redis refuses one while it is over its maxmemory)."""
        try:
            info = await self._client().xinfo_stream(stream_key(stream_id))
        except ResponseError as error:
            if "no such key" in str(error).lower():
                return KeptCount(0, None)
            raise BusUnavailable(f"cannot read the stream's length from Redis: {error}") from error
        except (RedisError, OSError) as error:
            raise BusUnavailable(f"cannot read the stream's length from Redis: {error}") from error
        last = info.get("last-entry")
        newest = last[0].decode() if last else None
        return KeptCount(int(info["length"]), newest)

    async def _newest_id(self, stream_id: str) -> str | None:
        """The ID of the stream's newest entry, or None while it has none."""
        rows = cast(StreamRows, await self._client().xrevrange(stream_key(stream_id), count=1))
        return rows[0][0].decode() if rows else None

    async def _newest_after(self, stream_id: str, after: str, *, count: int) -> list[StreamEntry]:
        """The newest `count` entries after `after`, oldest first."""
        if entry_id_order(after) == _LAST_POSSIBLE_ID or count <= 0:
            return []
        rows = cast(StreamRows, await self._client().xrevrange(stream_key(stream_id), min=f"({after}", count=count))
        return [_decode(entry_id, fields) for entry_id, fields in reversed(rows)]

    async def _range_after(self, stream_id: str, after: str, *, count: int | None) -> list[StreamEntry]:
        if entry_id_order(after) == _LAST_POSSIBLE_ID:
            return []  # nothing can follow it, and Redis refuses it as the exclusive start of a range
        rows = cast(StreamRows, await self._client().xrange(stream_key(stream_id), min=f"({after}", count=count))
        return [_decode(entry_id, fields) for entry_id, fields in rows]

    def _client(self) -> Redis:
        if self._redis is None:
            raise BusUnavailable("the Redis bus has not been started")
        return self._redis

    async def _wake_reader(self) -> None:
        with contextlib.suppress(RedisError, OSError):  # without it the reader still joins within a second
            pipeline = self._client().pipeline(transaction=False)
            pipeline.xadd(self._wake_key, {b"w": b"1"}, maxlen=1)
            pipeline.expire(self._wake_key, 60)
            await pipeline.execute()

    async def _read_forever(self) -> None:
        """Read until closed; while Redis fails, followers are told the bus is unavailable, and cursors kept."""
        failures = 0
        while not self._closing:
            try:
                # No pause between reads: what arrives while one XREAD is out comes with the next.
                await self._read_once()
                if failures:
                    log.warning("reading from Redis works again")
                failures = 0
                self._fanout.set_available(True)
            except (RedisError, OSError) as error:
                if failures == 0:
                    log.warning("reading from Redis failed (%s); retrying", error)
                failures += 1
                self._fanout.set_available(False)
            except Exception:
                log.exception("the Redis reader hit an unexpected error; retrying")
                failures += 1
            else:
                continue
            await asyncio.sleep(RETRY_DELAYS_S[min(failures, len(RETRY_DELAYS_S)) - 1])

    async def _read_once(self) -> int:
        """One XREAD of every followed stream; returns how many entries it brought."""
        streams = set(self._fanout.streams())
        for stream_id in list(self._cursors):
            if stream_id not in streams:
                del self._cursors[stream_id]
        # A stream with no cursor yet is still loading its history; subscribe() sets the cursor.
        request = {stream_key(sid): cursor for sid, cursor in self._cursors.items()}
        request[self._wake_key] = self._wake_cursor
        # The epoch comes with every read (one round trip): a restart that lost the data is seen at
        # once, even one so quick that no read failed.
        epoch = self._epoch
        seen, replies = await self._read_streams(request)
        if redis_epoch.as_text(seen) != epoch or self._epoch != epoch:  # (`ready` may have started over meanwhile)
            await self._check_epoch()
            return 0  # read with the old cursors: read again from the new ones
        brought: list[tuple[str, list[StreamEntry]]] = []
        for raw_key, rows in replies:
            key = raw_key.decode()
            if key == self._wake_key:
                self._wake_cursor = rows[-1][0].decode()
            else:
                brought.append((stream_id_from_key(key), [_decode(entry_id, fields) for entry_id, fields in rows]))
        read = 0
        for stream_id, entries in _up_to_the_same_moment(brought):
            read += len(entries)
            self._advance_cursor(stream_id, entries[-1].id)
            self._fanout.dispatch(stream_id, entries)
        return read

    async def _read_streams(self, request: dict[str, str]) -> tuple[object, XReadReply]:
        """The epoch key's value and one blocking XREAD (each stream's rows, oldest first; [] for none)."""
        if self._read_channel is None:
            pipeline = self._client().pipeline(transaction=False)
            pipeline.get(EPOCH_KEY)
            pipeline.xread(cast(dict[KeyT, StreamIdT], request), count=READ_COUNT, block=READ_BLOCK_MS)
            seen, replies = await pipeline.execute()
            return seen, replies
        read: tuple[str | int, ...] = ("XREAD", "COUNT", READ_COUNT, "BLOCK", READ_BLOCK_MS, "STREAMS",
                                       *request, *request.values())
        # A read is safe to repeat, at once on a new connection, before the followers are told that the
        # bus is unavailable: once after a connection that gave no answer was lost (Redis restarted), and
        # again each time one was lost after answering the GET (Redis is up: a client killed it while
        # the XREAD blocked), up to READ_RETRIES_AFTER_ANSWER in a row.
        retried_unanswered = False
        for _ in range(READ_RETRIES_AFTER_ANSWER + 1):
            seen, replies = await self._read_channel.call_each_settled(("GET", EPOCH_KEY), read)
            for result in (seen, replies):
                if isinstance(result, BaseException) and not isinstance(result, RedisConnectionError):
                    raise result
            if not isinstance(seen, BaseException) and not isinstance(replies, BaseException):
                return seen, replies or []
            if isinstance(seen, BaseException):
                if retried_unanswered:
                    raise seen
                retried_unanswered = True
        raise replies

    async def _check_epoch(self) -> None:
        """If Redis no longer holds the data this process saw: mark the followed streams lost, tell their
        followers, and read them from their beginning (the old cursors may lie past the new IDs)."""
        async with self._epoch_lock:
            client = self._client()
            current = await redis_epoch.adopt_epoch(client)
            if current == self._epoch:
                return  # another caller already started over
            followed = list(self._cursors)
            try:
                await redis_epoch.mark_lost(client, followed, current, self._retention_seconds)
            except (RedisError, OSError) as error:  # the open pages are still told; later ones will not be
                log.warning("could not mark the streams that lost their entries: %s", error)
            log.warning("Redis lost its data (a restart without persistence, or a flush): "
                        "%d followed streams start over", len(followed))
            self._epoch = current
            self._cursors = dict.fromkeys(followed, "0-0")
            self._wake_cursor = "0-0"
            self._fanout.start_over(redis_epoch.lost_text(redis_epoch.since_ms(current)))

    def _advance_cursor(self, stream_id: str, entry_id: str) -> None:
        cursor = self._cursors.get(stream_id)
        if cursor is not None and entry_id_order(entry_id) > entry_id_order(cursor):
            self._cursors[stream_id] = entry_id


def _up_to_the_same_moment(
        brought: list[tuple[str, list[StreamEntry]]]) -> list[tuple[str, list[StreamEntry]]]:
    """What one read brought of each stream, each cut after the last entry of the stream that may have more.

    A stream that brought `READ_COUNT` entries (after an outage, a backlog) may have more: the other
    streams' later entries are read again next time, so that a page following several streams gets
    them in the order Redis took them (in one read, each stream's entries come after the other's).
    """
    full = [entry_id_order(entries[-1].id) for _, entries in brought if len(entries) >= READ_COUNT]
    if not full:
        return brought
    bound = min(full)
    cut = [(stream_id, [entry for entry in entries if entry_id_order(entry.id) <= bound])
           for stream_id, entries in brought]
    return [(stream_id, entries) for stream_id, entries in cut if entries]


def _decode(entry_id: bytes, fields: dict[bytes, bytes] | list[bytes]) -> StreamEntry:
    encoded = fields[ENTRY_FIELD] if isinstance(fields, dict) else fields[fields.index(ENTRY_FIELD) + 1]
    return StreamEntry(entry_id.decode(), LogEntry.from_dict(orjson.loads(encoded)))
