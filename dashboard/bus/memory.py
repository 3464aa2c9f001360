"""The in-process bus: streams kept in memory, for a single server process."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from ..entry import LogEntry, StreamEntry
from ..protocol import entry_id_order
from ..stream import Bus


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
    """Streams in this process's memory, capped at `max_length` entries, dropped after `retention_seconds` idle."""

    name = "memory"
    keeps_entries_across_restarts = False

    def __init__(self, *, max_length: int, retention_seconds: float = 7 * 24 * 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._max_length = max_length
        self._retention_seconds = retention_seconds
        self._clock = clock
        self._streams: dict[str, deque[StreamEntry]] = {}
        # Streams by last write, oldest first, so expired ones are found without a scan.
        self._last_write: OrderedDict[str, float] = OrderedDict()
        self._ids = EntryIdClock()
        # Entries written in this turn of the event loop, by stream, not yet handed to the fan-out.
        self._undelivered: dict[str, list[StreamEntry]] = {}

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Nothing to release."""

    async def publish(self, stream_id: str, entries: Sequence[LogEntry]) -> list[str]:
        """Append entries; the subscribers get them right after, outside this call.

        The fan-out runs once per turn of the event loop for all the POSTs of that turn. A stream
        nobody follows is skipped: a subscriber that comes before the fan-out runs finds these
        entries in the stream itself.
        """
        stored = [StreamEntry(self._ids.next_id(), entry) for entry in entries]
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = self._streams[stream_id] = deque(maxlen=self._max_length)
        stream.extend(stored)
        self._touch(stream_id)
        if self._fanout.count(stream_id):
            if not self._undelivered:
                asyncio.get_running_loop().call_soon(self._deliver_written)
            self._undelivered.setdefault(stream_id, []).extend(stored)
        return [stream_entry.id for stream_entry in stored]

    def _deliver_written(self) -> None:
        written, self._undelivered = self._undelivered, {}
        for stream_id, stored in written.items():
            self._fanout.dispatch(stream_id, stored)

    async def _backlog(self, stream_id: str, *, history: int,
                       after: str | None) -> tuple[list[StreamEntry], str | None]:
        """The stream as it is now; publish() already hands every new entry to the fan-out."""
        stream = self._streams.get(stream_id)
        newest = stream[-1].id if stream else None
        if after is not None:
            return self._entries_after(stream_id, after), newest
        return (list(stream)[-history:] if stream and history > 0 else []), newest

    async def read(self, stream_id: str, *, after: str | None, limit: int) -> list[StreamEntry]:
        """Up to `limit` entries, oldest first: the first ones after `after`, or without it the newest."""
        if limit <= 0:
            return []
        if after is None:
            return list(self._streams.get(stream_id, ()))[-limit:]
        return self._entries_after(stream_id, after)[:limit]

    def _entries_after(self, stream_id: str, after: str) -> list[StreamEntry]:
        stream = self._streams.get(stream_id, ())
        threshold = entry_id_order(after)
        newer: list[StreamEntry] = []
        for stream_entry in reversed(stream):  # a resume usually asks for the last few entries
            if entry_id_order(stream_entry.id) <= threshold:
                break
            newer.append(stream_entry)
        newer.reverse()
        return newer

    def _touch(self, stream_id: str) -> None:
        """Record a write and drop the streams nobody has written to for `retention_seconds`."""
        now = self._clock()
        self._last_write[stream_id] = now
        self._last_write.move_to_end(stream_id)
        cutoff = now - self._retention_seconds
        while self._last_write:
            oldest, written = next(iter(self._last_write.items()))
            if written >= cutoff:
                break
            del self._last_write[oldest]
            del self._streams[oldest]
