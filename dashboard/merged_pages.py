"""Several streams' reads merged into one page by entry ID (the time the bus took each entry).

A merged view reads each of its streams on its own: the history it opens with, the entries before
its oldest row, the matches of a bounded scan. Each read stops at a point of its own, and the
merged page goes on from its own oldest entry next time, so two rules keep successive pages from
skipping or repeating an entry:

- A merged page holds nothing older than its *boundary*, the newest of the points where the
  streams' reads stopped (a read that got to its stream's start stops nowhere): below it, a stream
  that stopped higher may still have entries nobody read. What the others read below it is left
  out, and read again by the next page, which goes on from there.
- A page cut to its newest entries (a count, a byte bound) does not split the entries of one ID
  (streams' entries taken in the same millisecond): the next page goes on strictly before its oldest.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from .entry import StreamEntry, within_bytes
from .entry_pages import EntryPage
from .protocol import entry_id_order


@dataclass(frozen=True, slots=True)
class MergedPage:
    """Entries of several streams in ID order, each one's stream (its index in the reads), and where the page ends.

    `reached_start`: every stream's start is in the page. A search's page also says where the next
    one goes on (`next_before`) and how many entries were scanned down to there (`scanned`).
    """

    entries: list[StreamEntry]
    streams: list[int]
    reached_start: bool
    next_before: str | None = None
    scanned: int = 0


def merged_by_id(batches: Sequence[list[StreamEntry]]) -> tuple[list[StreamEntry], list[int]]:
    """The entries of several batches (each in ID order) in ID order, and the index of each one's batch.

    Equal IDs (two streams' entries taken in the same millisecond) keep the order of their batches.
    """
    tagged = heapq.merge(*([(index, stream_entry) for stream_entry in batch] for index, batch in enumerate(batches)),
                         key=lambda pair: entry_id_order(pair[1].id))
    entries: list[StreamEntry] = []
    streams: list[int] = []
    for index, stream_entry in tagged:
        streams.append(index)
        entries.append(stream_entry)
    return entries, streams


def from_common_start(histories: Sequence[list[StreamEntry]], whole: Sequence[bool]) -> list[list[StreamEntry]]:
    """Each stream's history (its newest entries) without what is older than the boundary.

    `whole[i]`: history `i` goes back to its stream's start. Merged, what is left is every entry of
    every stream from the boundary on: a page that opens with it has no hole to fill later.
    """
    starts = [entry_id_order(history[0].id) for history, complete in zip(histories, whole, strict=True)
              if history and not complete]
    if not starts:
        return list(histories)
    boundary = max(starts)
    return [[stream_entry for stream_entry in history if entry_id_order(stream_entry.id) >= boundary]
            for history in histories]


def newest_page(reads: Sequence[list[StreamEntry]], whole: Sequence[bool], *, limit: int,
                max_bytes: int) -> MergedPage:
    """The newest `limit` entries (within `max_bytes`) of several streams' reads, each its newest before one ID.

    `whole[i]`: read `i` holds everything its stream has before that ID. The newest `limit` of the
    merged reads are the newest `limit` of all the streams: a stream's entry among them is among its
    own newest `limit`. So only the count and the bytes cut, and the page has no boundary of its own.
    """
    entries, streams = merged_by_id(reads)
    kept = _kept(entries, limit, max_bytes)
    return MergedPage(entries[len(entries) - kept:], streams[len(entries) - kept:],
                      reached_start=all(whole) and kept == len(entries))


def search_page(pages: Sequence[EntryPage], scanned_ids: Sequence[Sequence[str]], *, limit: int,
                max_bytes: int) -> MergedPage:
    """Several streams' backward scans (`read_page`, before one ID) as one: matches down to the boundary, newest
    `limit` of them within `max_bytes`; `scanned_ids[i]` are the IDs scan `i` looked at."""
    stops = [page.next_before for page in pages if not page.reached_start and page.next_before is not None]
    boundary = max(stops, key=entry_id_order) if stops else None
    matches = [[stream_entry for stream_entry in page.entries
                if boundary is None or entry_id_order(stream_entry.id) >= entry_id_order(boundary)] for page in pages]
    entries, streams = merged_by_id(matches)
    kept = _kept(entries, limit, max_bytes)
    first = len(entries) - kept
    next_before = entries[first].id if first else boundary
    if next_before is None:  # every scan got to its stream's start
        ends = [page.next_before for page in pages if page.next_before is not None]
        return MergedPage(entries, streams, reached_start=True, next_before=min(ends, key=entry_id_order, default=None),
                          scanned=sum(len(ids) for ids in scanned_ids))
    floor = entry_id_order(next_before)
    scanned = sum(1 for ids in scanned_ids for entry_id in ids if entry_id_order(entry_id) >= floor)
    return MergedPage(entries[first:], streams[first:], reached_start=False, next_before=next_before, scanned=scanned)


def _kept(entries: list[StreamEntry], limit: int, max_bytes: int) -> int:
    """How many of the newest `entries` a page keeps: at most `limit` (at least 1), within `max_bytes`,
    and one ID's entries all or none.

    Only when one ID's entries are all the page would keep does it keep them all, over the bounds
    by fewer entries than there are streams.
    """
    kept = len(within_bytes(entries[-limit:], max_bytes, keep_newest=True)) if limit > 0 else 0
    first = len(entries) - kept
    if not kept or not first or entries[first - 1].id != entries[first].id:
        return kept
    split = entries[first].id
    start, end = first, first
    while start > 0 and entries[start - 1].id == split:
        start -= 1
    while end < len(entries) and entries[end].id == split:
        end += 1
    return len(entries) - (end if end < len(entries) else start)
