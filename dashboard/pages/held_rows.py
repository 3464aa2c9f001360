"""A reloaded page gets back the rows it held, not only the history every new page gets.

The browser keeps, per tab, the ID of the oldest row it held (`log_view.js`). Once the page
follows its streams, this asks for it on the side and sends the entries older than the page's
first row, back to that oldest one and within --max-rows, so the page holds every entry from
there on, also those that came while it was away, once each and in order. In pages: one read of
each stream at a time (a merged view's merged by ID, `merged_pages.newest_page`), each page within
the history's byte bound, the next only once the browser took the last. A few restores run at once
per process, so a herd of reloads neither delays page opens (they do not wait for this) nor piles
its reads on the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nicegui import Client

from ..elements.log_view import LogView
from ..entry import StreamEntry
from ..merged_pages import newest_page
from ..protocol import entry_id_order, is_entry_id
from ..stream import MAX_HISTORY_BYTES, Bus, BusUnavailable

log = logging.getLogger("uvicorn.error")

PAGE_ENTRIES = 500
CONCURRENT_RESTORES = 4
ASK_TIMEOUT_S = 5.0
# The browser must take a page within this long, or the restore stops (the page keeps what it has).
TAKE_TIMEOUT_S = 30.0
# Messages that may wait for the page before the next page is sent (well below the cut-off).
WAITING_AT_MOST = 4
# Shared with the reads of older lines a page asks for as its reader scrolls up (older_lines).
restores = asyncio.Semaphore(CONCURRENT_RESTORES)


async def restore_held_rows(client: Client, bus: Bus, stream_ids: Sequence[str], view: LogView, *,
                            max_rows: int) -> None:
    """Send `view` the rows it held before a reload and has not got back; nothing if it was not reloaded."""
    if client.is_deleted:
        return
    with contextlib.suppress(TimeoutError):
        request = await view.restore_request(ASK_TIMEOUT_S)
        if request is None or client.is_deleted:
            return
        wanted = _wanted(request, max_rows)
        if wanted is None:
            return
        count, first, oldest = wanted
        async with restores:
            await send_older(client, bus, stream_ids, view, count=count, before=first, oldest=oldest)


def _wanted(request: dict[str, Any], max_rows: int) -> tuple[int, str, tuple[int, int]] | None:
    """From the browser's answer: how many rows to send at most, the ID to send them before, and the oldest to send."""
    held, first, oldest = (request.get(key) for key in ("held", "first", "oldest"))
    if not (isinstance(held, int) and not isinstance(held, bool) and held >= 0
            and isinstance(first, str) and isinstance(oldest, str)
            and is_entry_id(first) and is_entry_id(oldest)):
        return None  # a page that answers nonsense gets nothing
    wanted = max_rows - held
    return (wanted, first, entry_id_order(oldest)) if wanted > 0 else None


@dataclass(frozen=True, slots=True)
class SentOlder:
    """What `send_older` sent: how many entries, and whether the bus keeps none older than the last."""

    sent: int
    reached_start: bool


async def send_older(client: Client, bus: Bus, stream_ids: Sequence[str], view: LogView, *, count: int, before: str,
                     oldest: tuple[int, int] = (0, 0)) -> SentOlder:
    """Send `view` up to `count` entries of its streams before `before` (and not older than `oldest`), newest
    first, in pages; on a merged view each marked with its stream's index.

    Each page is one read of each stream, merged by ID, within the history's byte bound; the next
    page only once the browser took the last.
    """
    sent = 0
    while count > 0 and not client.is_deleted:
        limit = min(count, PAGE_ENTRIES)
        try:
            reads = [await bus.read_before(stream_id, before=before, limit=limit) for stream_id in stream_ids]
        except BusUnavailable:
            break
        kept = [_not_older(read, oldest) for read in reads]
        whole = [len(read) < limit and len(read) == len(left) for read, left in zip(reads, kept, strict=True)]
        page = newest_page(kept, whole, limit=limit, max_bytes=MAX_HISTORY_BYTES)
        if not page.entries:
            return SentOlder(sent, page.reached_start)
        view.push_older(page.entries, page.streams if len(stream_ids) > 1 else None)
        sent += len(page.entries)
        count -= len(page.entries)
        before = page.entries[0].id
        if not await taken(client, view):
            log.info("a page did not take the older rows sent to it; stopped sending them")
            break
        if page.reached_start:
            return SentOlder(sent, True)
    return SentOlder(sent, False)


def _not_older(page: list[StreamEntry], oldest: tuple[int, int]) -> list[StreamEntry]:
    return [stream_entry for stream_entry in page if entry_id_order(stream_entry.id) >= oldest]


async def taken(client: Client, view: LogView) -> bool:
    """Wait until the page has taken what was sent to it (within `WAITING_AT_MOST`); False if it does not."""
    deadline = time.monotonic() + TAKE_TIMEOUT_S
    while view.waiting_messages() > WAITING_AT_MOST:
        if client.is_deleted or time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return not client.is_deleted
