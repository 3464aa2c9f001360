"""Older lines on demand: what a page asks for as its reader scrolls to the top, or searches everything kept.

The page holds the newest rows (its history, then live ones); the bus keeps more. The page says
how many (`kept`, of each of its streams), and asks (`older`) for the page of entries before its
oldest row, or, with a filter, for the older entries that match it (a bounded scan of what the bus
keeps, as `/entries` does). Each ask is answered once with what was sent and where it stopped. A
merged view asks the same: each of its streams is read or scanned, and the results merged by ID
(`merged_pages`); a stream its reader hid is still read (its rows are held, only not shown) but
not searched (the search's matches go when the reader shows it: that changes the filter).

A page cannot make the server re-read the stream in a tight loop: it has one ask in flight at a
time (others are ignored), asks at most every `MIN_GAP_S`, each ask reads at most `PAGE_ENTRIES`
entries of each stream (a search scans at most `entry_pages.MAX_SCANNED`, for `SCAN_SECONDS`, split
between the streams searched), and the reads of every page of the process share the restore
path's few slots (`held_rows.restores`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from nicegui import Client
from nicegui.events import GenericEventArguments
from starlette.datastructures import QueryParams

from ..elements.log_view import LogView
from ..entry_pages import FULL_SCAN, MAX_PAGE_BYTES, EntryPage, read_page
from ..entry_query import EntryQuery, QueryError, parse_entry_query
from ..merged_pages import search_page
from ..protocol import is_entry_id
from ..stream import Bus, BusUnavailable
from .held_rows import PAGE_ENTRIES, restores, send_older, taken
from .view_filter import ViewFilter

MIN_GAP_S = 0.25


@dataclass(frozen=True, slots=True)
class OlderAsk:
    """One ask of a page: entries before `before` (matches of its filter if `search`), at most `count`."""

    before: str
    count: int
    search: bool


def parse_ask(args: Any, max_rows: int) -> OlderAsk | None:
    """The page's ask (`{before, held, search}`) within --max-rows and one page; None for nonsense or no room."""
    if not isinstance(args, dict):
        return None
    before, held, search = args.get("before"), args.get("held"), args.get("search", False)
    if not (isinstance(before, str) and is_entry_id(before) and isinstance(held, int)
            and not isinstance(held, bool) and held >= 0 and isinstance(search, bool)):
        return None
    count = min(PAGE_ENTRIES, max_rows - held)
    return OlderAsk(before, count, search) if count > 0 else None


FIELD_CONDITIONS_REFUSED = ("search all does not apply field conditions (key=value, key!=value, key~regex): "
                            "it searches text, levels, programs and time")


def search_query(view_filter: ViewFilter) -> EntryQuery:
    """What the page's filter shows, as a query of the bus; `QueryError` if the bus cannot search for it
    (a regular expression RE2 refuses, field conditions)."""
    if view_filter.has_field_conditions:
        raise QueryError(FIELD_CONDITIONS_REFUSED)
    query = parse_entry_query(QueryParams(view_filter.to_query()))
    return replace(query, hidden_levels=frozenset(view_filter.hidden_levels))


class OlderLines:
    """Answers one page's asks for older lines and tells it how many the bus keeps of its streams.

    `short_keys`: on a merged view, each stream's short key (what the filter's hidden streams name).
    """

    def __init__(self, client: Client, bus: Bus, stream_ids: Sequence[str], view: LogView, *, max_rows: int,
                 max_kept: int, view_filter: Callable[[], ViewFilter], short_keys: Sequence[str] = ()) -> None:
        self._client = client
        self._bus = bus
        self._stream_ids = list(stream_ids)
        self._short_keys = list(short_keys)
        self._view = view
        self._max_rows = max_rows
        self._max_kept = max_kept  # of each stream
        self._view_filter = view_filter
        self._busy = False
        self._last_ask = -MIN_GAP_S
        view.on("older", self._on_ask)

    async def tell_kept(self) -> None:
        """Tell the page how many entries the bus keeps for its streams (nothing while the bus is away)."""
        with contextlib.suppress(BusUnavailable):
            lengths, newest = await self._kept()
            self._view.set_kept(lengths, self._max_kept, newest)

    async def _kept(self) -> tuple[list[int], list[str | None]]:
        """How many entries the bus keeps of each of the page's streams, and the ID of each one's newest."""
        kept = [await self._bus.kept(stream_id) for stream_id in self._stream_ids]
        return [each.length for each in kept], [each.newest for each in kept]

    async def _on_ask(self, event: GenericEventArguments) -> None:
        ask = parse_ask(event.args, self._max_rows)
        if ask is None or self._busy or self._client.is_deleted:
            return
        self._busy = True
        try:
            await asyncio.sleep(max(0.0, self._last_ask + MIN_GAP_S - time.monotonic()))
            async with restores:
                answer = await (self._search(ask) if ask.search else self._rows(ask))
            with contextlib.suppress(BusUnavailable):
                answer["kept"], answer["newest"] = await self._kept()
            answer["max_kept"] = self._max_kept
            if not self._client.is_deleted:
                self._view.older_done(answer)
        finally:
            self._last_ask = time.monotonic()
            self._busy = False

    async def _rows(self, ask: OlderAsk) -> dict[str, Any]:
        sent = await send_older(self._client, self._bus, self._stream_ids, self._view, count=ask.count,
                                before=ask.before)
        return {"sent": sent.sent, "reached_start": sent.reached_start}

    async def _search(self, ask: OlderAsk) -> dict[str, Any]:
        view_filter = self._view_filter()
        try:
            query = search_query(view_filter)
        except QueryError as error:
            return {"sent": 0, "error": str(error)}
        searched = self._searched(view_filter)
        budget = FULL_SCAN.split(max(1, len(searched)))
        pages: list[EntryPage] = []
        scanned_ids: list[list[str]] = []
        try:
            for index in searched:
                scanned_ids.append([])
                pages.append(await read_page(self._bus, self._stream_ids[index], query, after=None, before=ask.before,
                                             limit=ask.count, budget=budget, scanned_ids=scanned_ids[-1]))
        except BusUnavailable:
            return {"sent": 0, "error": "the log bus is unavailable; try again", "retry": True}
        page = search_page(pages, scanned_ids, limit=ask.count, max_bytes=MAX_PAGE_BYTES)
        if page.entries:
            merged = len(self._stream_ids) > 1
            self._view.push_older(page.entries, [searched[index] for index in page.streams] if merged else None)
            await taken(self._client, self._view)
        return {"sent": len(page.entries), "search": True, "scanned": page.scanned,
                "next_before": page.next_before or ask.before, "reached_start": page.reached_start}

    def _searched(self, view_filter: ViewFilter) -> list[int]:
        """The indexes of the streams a search scans: on a merged view, those its reader did not hide."""
        if len(self._stream_ids) == 1:
            return [0]
        hidden = set(view_filter.hidden_streams)
        return [index for index, short in enumerate(self._short_keys) if short not in hidden]
