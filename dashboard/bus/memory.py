"""The in-process bus: streams kept in memory, for a single server process."""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from ..entry import LogEntry, StreamEntry, memory_size_of
from ..protocol import BATCH_KEY_SECONDS, entry_id_order
from ..stream import Bus, KeptCount
from .recent_batches import RecentBatches

log = logging.getLogger(__name__)

# A write that comes this long after the bus's last write or fan-out ended goes to its followers
# within publish(), if it has no more than AT_ONCE_MAX_FOLLOWERS: no other write was being handled,
# and waiting for the end of the event loop's turn would only delay it. Writes closer together are
# gathered per turn and handed on together, so a flood of POSTs costs one fan-out per turn, not one
# per POST, however long a fan-out takes. A stream with more followers answers its POST first: the
# answer would otherwise wait for every one of them.
AT_ONCE_AFTER_S = 0.001
AT_ONCE_MAX_FOLLOWERS = 4

EVICTED_NOTICE = ("the server dropped this stream's earlier lines to stay within its memory budget "
                  "(--memory-budget-mb); new lines still arrive")
# Past its byte budget the bus trims the streams to this share of it: the sort that finds what to
# trim then runs once per few percent of the budget written, not at every write.
TRIM_TO_SHARE = 0.95

# How an entry is kept: one plain tuple, (id, message, timestamp, level, program, fields_json), made a
# `StreamEntry` again when read. Python's collector stops tracking a plain tuple of strings and
# numbers once it has seen it; named tuples it walks at every full collection, and an entry was two
# of them: 3 million kept entries made each full collection (the hourly one of `page_heap` too) 1 s.
KeptEntry = tuple[str, str, float, str, str, bytes | None]


class EntryIdClock:
    """Issues strictly increasing `<ms>-<seq>` IDs, like Redis does for XADD '*'."""

    def __init__(self) -> None:
        self._milliseconds = 0
        self._sequence = 0

    def next_id(self) -> str:
        """The next ID: the current millisecond, or the last one with a higher sequence."""
        now = int(time.time() * 1000)
        if now > self._milliseconds:
            self._milliseconds, self._sequence = now, 0
        else:
            self._sequence += 1
        return f"{self._milliseconds}-{self._sequence}"


class MemoryBus(Bus):
    """Streams in this process's memory, capped at `max_length` entries, dropped after `retention_seconds` idle.

    All streams together stay within `budget_bytes`: beyond it the largest streams lose their oldest
    entries, each down to the same size, as small as it takes (`fair_share`), so that one sender
    filling many streams cannot push out everyone else's; their followers are told. Beyond
    `max_streams`, the streams written least recently are dropped whole.
    """

    name = "memory"
    keeps_entries_across_restarts = False

    def __init__(self, *, max_length: int, retention_seconds: float = 7 * 24 * 3600,
                 budget_bytes: int = 1 << 62, max_streams: int = 1 << 62,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._max_length = max_length
        self._retention_seconds = retention_seconds
        self._budget_bytes = budget_bytes
        self._max_streams = max_streams
        self._clock = clock
        self._streams: dict[str, deque[KeptEntry]] = {}
        self._bytes: dict[str, int] = {}
        self.total_bytes = 0
        self.streams_evicted = 0
        self.streams_trimmed = 0
        # Streams by last write, oldest first, so expired ones are found without a scan.
        self._last_write: OrderedDict[str, float] = OrderedDict()
        self._next_expiry_check = float("-inf")
        self._ids = EntryIdClock()
        self._batches = RecentBatches(BATCH_KEY_SECONDS, clock=clock)
        # Entries written in this turn of the event loop, by stream, not yet handed to the fan-out.
        self._undelivered: dict[str, list[StreamEntry]] = {}
        self._busy_until = float("-inf")  # when the last write or fan-out ended (on the clock)

    def stats(self) -> dict[str, int]:
        """Streams kept, about how many bytes they take, how many the budgets dropped whole, and how many
        times the byte budget took a stream's oldest entries."""
        return {"streams": len(self._streams), "stream_bytes": self.total_bytes,
                "streams_evicted": self.streams_evicted, "streams_trimmed": self.streams_trimmed}

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Nothing to release."""

    async def publish(self, stream_id: str, entries: Sequence[LogEntry], *, batch_key: str | None = None) -> list[str]:
        """Append entries; a few subscribers get them within this call after a quiet spell, else right after.

        A write after a quiet spell (`AT_ONCE_AFTER_S`) to a stream with few followers is handed on
        at once. Other writes are handed on once per turn of the event loop, all of that turn's
        together. A stream nobody follows is skipped: a subscriber that comes before the fan-out
        runs finds these entries in the stream itself.
        """
        if batch_key is not None and (known := self._batches.get(stream_id, batch_key)) is not None:
            return self._ids_between(stream_id, *known)
        stored = [StreamEntry(self._ids.next_id(), entry) for entry in entries]
        if batch_key is not None and stored:
            self._batches.remember(stream_id, batch_key, stored[0].id, stored[-1].id)
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = self._streams[stream_id] = deque()
            self._bytes[stream_id] = 0
        stream.extend([(stream_entry.id, *stream_entry.entry) for stream_entry in stored])
        added = 0
        for entry in entries:
            added += entry.memory_size()
        while len(stream) > self._max_length:
            added -= _kept_size(stream.popleft())
        self._bytes[stream_id] += added
        self.total_bytes += added
        now = self._clock()
        quiet_before = now - self._busy_until >= AT_ONCE_AFTER_S
        self._busy_until = now
        self._touch(stream_id, now)
        if self.total_bytes > self._budget_bytes or len(self._streams) > self._max_streams:
            self._keep_within_budget(stream_id)
        if followers := self._fanout.count(stream_id):
            if quiet_before and followers <= AT_ONCE_MAX_FOLLOWERS and not self._undelivered:
                self._fanout.dispatch(stream_id, stored)
                self._busy_until = self._clock()
                return [stream_entry.id for stream_entry in stored]
            if not self._undelivered:
                asyncio.get_running_loop().call_soon(self._deliver_written)
            self._undelivered.setdefault(stream_id, []).extend(stored)
        return [stream_entry.id for stream_entry in stored]

    def _ids_between(self, stream_id: str, first: str, last: str) -> list[str]:
        """The IDs of the entries still kept from `first` to `last`: what one earlier batch stored."""
        low, high = entry_id_order(first), entry_id_order(last)
        found = []
        for kept in reversed(self._streams.get(stream_id, ())):
            order = entry_id_order(kept[0])
            if order < low:
                break
            if order <= high:
                found.append(kept[0])
        found.reverse()
        return found

    def _deliver_written(self) -> None:
        written, self._undelivered = self._undelivered, {}
        for stream_id, stored in written.items():
            self._fanout.dispatch(stream_id, stored)
        self._busy_until = self._clock()

    async def _backlog(self, stream_id: str, *, history: int, after: str | None,
                       limit: int | None = None) -> tuple[list[StreamEntry], str | None]:
        """The stream as it is now; publish() already hands every new entry to the fan-out."""
        stream = self._streams.get(stream_id)
        newest = stream[-1][0] if stream else None
        if after is not None:
            return self._entries_after(stream_id, after, limit=limit), newest
        return (_between(stream, len(stream) - history, len(stream)) if stream and history > 0 else []), newest

    async def read(self, stream_id: str, *, after: str | None, limit: int) -> list[StreamEntry]:
        """Up to `limit` entries, oldest first: the first ones after `after`, or without it the newest."""
        stream = self._streams.get(stream_id, ())
        if limit <= 0:
            return []
        if after is None:
            return _between(stream, len(stream) - limit, len(stream))
        start = bisect.bisect_right(stream, entry_id_order(after), key=_id_order)
        return _between(stream, start, start + limit)

    async def read_before(self, stream_id: str, *, before: str, limit: int) -> list[StreamEntry]:
        """Up to `limit` entries older than `before`, oldest first: the newest ones before it."""
        stream = self._streams.get(stream_id, ())
        end = bisect.bisect_left(stream, entry_id_order(before), key=_id_order)
        return _between(stream, end - limit, end)

    async def kept(self, stream_id: str) -> KeptCount:
        """How many entries the stream holds now, and the newest one's ID."""
        stream = self._streams.get(stream_id, ())
        return KeptCount(len(stream), stream[-1][0] if stream else None)

    def _entries_after(self, stream_id: str, after: str, *, limit: int | None = None) -> list[StreamEntry]:
        """The entries after `after`, oldest first; only the newest `limit` of them if given."""
        stream = self._streams.get(stream_id, ())
        threshold = entry_id_order(after)
        newer: list[StreamEntry] = []
        for kept in reversed(stream):  # a resume usually asks for the last few entries
            if entry_id_order(kept[0]) <= threshold or (limit is not None and len(newer) >= limit):
                break
            newer.append(_read(kept))
        newer.reverse()
        return newer

    def _touch(self, stream_id: str, now: float) -> None:
        """Record a write at `now`; drop streams nobody wrote to for `retention_seconds` (looked for once a second)."""
        self._last_write[stream_id] = now
        self._last_write.move_to_end(stream_id)
        if now < self._next_expiry_check:  # looked less than a second ago: nothing can be much overdue
            return
        self._next_expiry_check = now + 1.0
        cutoff = now - self._retention_seconds
        while self._last_write:
            oldest, written = next(iter(self._last_write.items()))
            if written >= cutoff:
                break
            self._drop(oldest)

    def _keep_within_budget(self, written: str) -> None:
        """Drop the least recently written streams past `max_streams`, then trim the largest streams to
        fit the byte budget; the one just written keeps at least its newest entry."""
        while len(self._streams) > self._max_streams and len(self._last_write) > 1:
            oldest = next(iter(self._last_write))
            if oldest == written:  # cannot happen: it was just moved to the end
                break
            self._drop(oldest)
            self.streams_evicted += 1
            log.warning("stream cap: dropped stream %s (%d streams)", oldest, len(self._streams))
            self._fanout.notify(oldest, EVICTED_NOTICE)
        if self.total_bytes > self._budget_bytes:
            self._trim_to(int(self._budget_bytes * TRIM_TO_SHARE), written)

    def _trim_to(self, target_bytes: int, written: str) -> None:
        """Take the oldest entries of every stream larger than the fair share that brings all to `target_bytes`."""
        cap = fair_share(list(self._bytes.values()), self.total_bytes - target_bytes)
        over = [stream_id for stream_id, size in self._bytes.items() if size > cap]
        for stream_id in over:
            stream = self._streams[stream_id]
            keep = 1 if stream_id == written else 0
            size = self._bytes[stream_id]
            while size > cap and len(stream) > keep:
                size -= _kept_size(stream.popleft())
            self.total_bytes -= self._bytes[stream_id] - size
            self._bytes[stream_id] = size
            if stream:
                self.streams_trimmed += 1
            else:
                self._drop(stream_id)
                self.streams_evicted += 1
            self._fanout.notify(stream_id, EVICTED_NOTICE)
        log.warning("memory budget: trimmed %d streams to %d bytes each (%d streams, %d bytes left)", len(over), cap,
                    len(self._streams), self.total_bytes)

    def _drop(self, stream_id: str) -> None:
        del self._last_write[stream_id]
        del self._streams[stream_id]
        self.total_bytes -= self._bytes.pop(stream_id)


def fair_share(sizes: list[int], excess: int) -> int:
    """The largest size to which the largest of `sizes` must be cut so that at least `excess` goes in all.

    Every size above it is cut to it and the rest stay whole: the smallest streams keep everything,
    and only those above the share pay.
    """
    if excess <= 0:
        return max(sizes, default=0)
    ordered = sorted(sizes, reverse=True)
    above = 0  # the sum of the largest `count` sizes
    for count, size in enumerate(ordered, start=1):
        above += size
        share = (above - excess) // count  # cutting the largest `count` to this takes `excess`
        following = ordered[count] if count < len(ordered) else 0
        if share >= following:
            return max(share, 0)
    return 0


def _id_order(kept: KeptEntry) -> tuple[int, int]:
    return entry_id_order(kept[0])


def _read(kept: KeptEntry) -> StreamEntry:
    # tuple.__new__ builds a named tuple without the Python call of its own __new__: reads take a third less.
    return _new_tuple(StreamEntry, (kept[0], _new_tuple(LogEntry, kept[1:])))


_new_tuple = tuple.__new__


def _kept_size(kept: KeptEntry) -> int:
    return memory_size_of(kept[1], kept[4], kept[5])


def _between(stream: Sequence[KeptEntry], start: int, stop: int) -> list[StreamEntry]:
    """`stream[start:stop]`, read, within its bounds; a deque has no slices, but indexing it is cheap near
    either end."""
    return [_read(stream[index]) for index in range(max(start, 0), min(stop, len(stream)))]
