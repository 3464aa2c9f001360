"""One page of `/live/<uuid>/entries`: the entries a query wants, found by a bounded scan of the stream.

A page scans from a cursor in one direction, in chunks, until it has `limit` matches, reaches the
end of what the bus keeps, has looked at `MAX_SCANNED` entries or has taken `SCAN_SECONDS`. A
filter that matches rarely therefore costs each request a bounded time and memory; the page says
where its scan stopped, and the next request goes on from there.

Every page covers the run of entries it scanned, from `next_before` (exclusive for the older page)
to `next_after` (exclusive for the newer one), and holds every match in that run: pages fetched
with those cursors tile the stream with no gap and no repeat, in either direction. A scan of several
streams at once (a merged view's search, `merged_pages`) splits one scan's budget between them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .entry import StreamEntry, within_bytes
from .entry_query import EntryQuery
from .protocol import entry_id_order
from .stream import Bus

# A page of entries ends once they take this much (it holds at least one): a request with
# limit=1000 of 64 KiB entries would otherwise pin 64 MB until a slow client reads it.
MAX_PAGE_BYTES = 1024 * 1024
# A filtered scan reads this many entries at a time (at most 13 MB of the largest entries)...
SCAN_CHUNK = 200
# ...and stops after this many, or this long, whichever comes first.
MAX_SCANNED = 10_000
SCAN_SECONDS = 0.5
# A scan lets the event loop run other work at least this often: the memory bus's reads never
# suspend, and a chunk of long lines against a costly pattern can take the whole SCAN_SECONDS.
SCAN_SLICE_SECONDS = 0.02
# Where a regular expression is matched against a long entry (EntryQuery.matches_off_loop), for every
# scan of the process (`/entries`, and pages' searches of older lines): such matches take at most two
# cores. A scan waits for its turn only until its time is up (`_Scan._match_off_loop`).
_LONG_MATCHES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bunnylogs-long-match")


@dataclass(frozen=True, slots=True)
class ScanBudget:
    """How far one scan may go: at most `entries` entries looked at, for at most `seconds`."""

    entries: int = MAX_SCANNED
    seconds: float = SCAN_SECONDS

    def split(self, parts: int) -> ScanBudget:
        """One of `parts` equal shares of this budget (at least one entry each)."""
        return ScanBudget(max(1, self.entries // parts), self.seconds / parts)


FULL_SCAN = ScanBudget()


@dataclass(frozen=True, slots=True)
class EntryPage:
    """The matches of one scan, oldest first, and where the scan began and ended."""

    entries: list[StreamEntry]
    next_after: str | None
    next_before: str | None
    scanned: int
    reached_start: bool
    reached_end: bool

    def to_wire(self, kept: int) -> dict[str, Any]:
        """The page as `/entries` answers it; `kept` is how many entries the stream holds."""
        return {"entries": [stream_entry.to_wire() for stream_entry in self.entries],
                "next_after": self.next_after, "next_before": self.next_before, "kept": kept,
                "scanned": self.scanned, "reached_start": self.reached_start, "reached_end": self.reached_end}


async def read_page(bus: Bus, stream_id: str, query: EntryQuery, *, after: str | None, before: str | None,
                    limit: int, clock: Callable[[], float] = time.monotonic, budget: ScanBudget = FULL_SCAN,
                    scanned_ids: list[str] | None = None) -> EntryPage:
    """With `after`: the first `limit` matches after it. Else the newest `limit` matches (before `before`).

    `scanned_ids`, if given, gets the ID of every entry scanned, in the scan's order.
    """
    scan = _Scan(query, limit, budget=budget, clock=clock, scanned_ids=scanned_ids)
    if after is not None:
        return await scan.forward(bus, stream_id, after)
    return await scan.backward(bus, stream_id, before)


class _Scan:
    """The state of one page's scan: what it matched, how far it got, and its bounds."""

    def __init__(self, query: EntryQuery, limit: int, *, budget: ScanBudget, clock: Callable[[], float],
                 scanned_ids: list[str] | None) -> None:
        self._query = query
        self._limit = limit
        self._max_scanned = budget.entries
        self._deadline = clock() + budget.seconds
        self._clock = clock
        self._scanned_ids = scanned_ids
        # Unfiltered, every entry matches: one read of `limit` entries is the whole page.
        self._chunk = limit if query.wants_everything else SCAN_CHUNK
        self._timed_out = False  # stopped waiting for a long match: the scan ends before that entry
        self.matches: list[StreamEntry] = []
        self.matched_bytes = 0
        self.scanned = 0
        self.first_id: str | None = None  # the first and last entry scanned, in the scan's direction
        self.last_id: str | None = None

    async def forward(self, bus: Bus, stream_id: str, after: str) -> EntryPage:
        """Scan from `after` toward the newest entry."""
        cursor = after
        while True:
            chunk = self._next_chunk()
            batch = await bus.read(stream_id, after=cursor, limit=chunk)
            reached_end = await self._take(batch) and len(batch) < chunk
            if reached_end or self._done() or not batch:
                break
            cursor = batch[-1].id
            await asyncio.sleep(0)  # a long scan of the memory bus must not hold the event loop
        entries = within_bytes(self.matches, MAX_PAGE_BYTES, keep_newest=False)
        cut = len(entries) < len(self.matches)
        return EntryPage(entries, next_after=entries[-1].id if cut else (self.last_id or after),
                         next_before=self.first_id, scanned=self.scanned,
                         reached_start=entry_id_order(after) == (0, 0), reached_end=reached_end and not cut)

    async def backward(self, bus: Bus, stream_id: str, before: str | None) -> EntryPage:
        """Scan from `before` (or the newest entry) toward the oldest."""
        cursor = before
        while True:
            chunk = self._next_chunk()
            if cursor is None:
                batch = await bus.read(stream_id, after=None, limit=chunk)
            else:
                batch = await bus.read_before(stream_id, before=cursor, limit=chunk)
            reached_start = await self._take(batch[::-1]) and len(batch) < chunk
            if reached_start or self._done() or not batch:
                break
            cursor = batch[0].id
            await asyncio.sleep(0)
        self.matches.reverse()
        entries = within_bytes(self.matches, MAX_PAGE_BYTES, keep_newest=True)
        cut = len(entries) < len(self.matches)
        return EntryPage(entries, next_after=self.first_id, scanned=self.scanned,
                         next_before=entries[0].id if cut else (self.last_id or before),
                         reached_start=reached_start and not cut, reached_end=before is None)

    def _next_chunk(self) -> int:
        return min(self._chunk, self._max_scanned - self.scanned)

    async def _take(self, batch: list[StreamEntry]) -> bool:
        """Scan `batch` in the scan's order; False if it stopped early: with `limit` matches, or out of time.

        The time is read at each entry: one long line against a costly pattern takes milliseconds,
        and a batch of them must not run the scan far past its time, nor hold the event loop for
        more than SCAN_SLICE_SECONDS at a time. (Held for the whole scan, requests piled up unread
        behind it instead of in line for a scan slot, which refuses them once it is full.) A regular
        expression's match against one long entry cannot be cut short, so it runs in a worker thread.
        """
        slice_ends = self._clock() + SCAN_SLICE_SECONDS
        for stream_entry in batch:
            now = self._clock()
            if now >= slice_ends:
                await asyncio.sleep(0)
                now = self._clock()  # other work ran meanwhile: the budget is checked after it
                slice_ends = now + SCAN_SLICE_SECONDS
            if self.scanned and now >= self._deadline:
                return False
            if self._query.matches_off_loop(stream_entry.entry):
                matched = await self._match_off_loop(stream_entry)
                if matched is None:
                    self._timed_out = True  # a timer may fire a little before the clock reads the deadline
                    return False
                slice_ends = self._clock() + SCAN_SLICE_SECONDS
            else:
                matched = self._query.matches(stream_entry.entry)
            self.scanned += 1
            self.first_id = self.first_id or stream_entry.id
            self.last_id = stream_entry.id
            if self._scanned_ids is not None:
                self._scanned_ids.append(stream_entry.id)
            if matched:
                self.matches.append(stream_entry)
                self.matched_bytes += stream_entry.entry.memory_size()
                if self._full():
                    return stream_entry is batch[-1]
        return True

    async def _match_off_loop(self, stream_entry: StreamEntry) -> bool | None:
        """Whether `stream_entry` matches, worked out in a worker thread; None if the scan's time ran out
        first (then it is not scanned). The first entry of a scan is always worked out: each page moves on."""
        match = asyncio.get_running_loop().run_in_executor(_LONG_MATCHES, self._query.matches, stream_entry.entry)
        if not self.scanned:
            return await match
        try:
            # Other scans' long matches may be ahead of it in the pool (pages' searches of older lines too).
            return await asyncio.wait_for(match, timeout=max(self._deadline - self._clock(), 0.0))
        except TimeoutError:
            return None  # left the pool's queue if it had not started; else it ends there, unread

    def _full(self) -> bool:
        return len(self.matches) >= self._limit or self.matched_bytes > MAX_PAGE_BYTES

    def _done(self) -> bool:
        return self._full() or self.scanned >= self._max_scanned or self._timed_out or self._clock() >= self._deadline
