"""Older lines on demand: what a page asks for as its reader scrolls to the top, or searches everything kept.

The page holds the newest rows (its history, then live ones); the bus keeps more. The page says
how many (`kept`), and asks (`older`) for the page of entries before its oldest row, or, with a
filter, for the older entries that match it (a bounded scan of what the bus keeps, as
`/entries` does). Each ask is answered once with what was sent and where it stopped.

A page cannot make the server re-read the stream in a tight loop: it has one ask in flight at a
time (others are ignored), asks at most every `MIN_GAP_S`, each ask reads at most `PAGE_ENTRIES`
entries (a search scans at most `entry_pages.MAX_SCANNED`, for `SCAN_SECONDS`), and the reads of
every page of the process share the restore path's few slots (`held_rows.restores`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from nicegui import Client
from nicegui.events import GenericEventArguments
from starlette.datastructures import QueryParams

from ..elements.log_view import LogView
from ..entry_pages import read_page
from ..entry_query import EntryQuery, QueryError, parse_entry_query
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


def search_query(view_filter: ViewFilter) -> EntryQuery:
    """What the page's filter shows, as a query of the bus (regular expressions on RE2: `QueryError` if refused)."""
    query = parse_entry_query(QueryParams(view_filter.to_query()))
    return replace(query, hidden_levels=frozenset(view_filter.hidden_levels))


class OlderLines:
    """Answers one page's asks for older lines and tells it how many the bus keeps."""

    def __init__(self, client: Client, bus: Bus, stream_id: str, view: LogView, *, max_rows: int,
                 max_kept: int, view_filter: Callable[[], ViewFilter]) -> None:
        self._client = client
        self._bus = bus
        self._stream_id = stream_id
        self._view = view
        self._max_rows = max_rows
        self._max_kept = max_kept
        self._view_filter = view_filter
        self._busy = False
        self._last_ask = -MIN_GAP_S
        view.on("older", self._on_ask)

    async def tell_kept(self) -> None:
        """Tell the page how many entries the bus keeps for the stream (nothing while the bus is away)."""
        with contextlib.suppress(BusUnavailable):
            self._view.set_kept(await self._bus.length(self._stream_id), self._max_kept)

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
                answer["kept"] = await self._bus.length(self._stream_id)
            answer["max_kept"] = self._max_kept
            if not self._client.is_deleted:
                self._view.older_done(answer)
        finally:
            self._last_ask = time.monotonic()
            self._busy = False

    async def _rows(self, ask: OlderAsk) -> dict[str, Any]:
        sent = await send_older(self._client, self._bus, self._stream_id, self._view, count=ask.count,
                                before=ask.before)
        return {"sent": sent.sent, "reached_start": sent.reached_start}

    async def _search(self, ask: OlderAsk) -> dict[str, Any]:
        try:
            query = search_query(self._view_filter())
        except QueryError as error:
            return {"sent": 0, "error": str(error)}
        try:
            page = await read_page(self._bus, self._stream_id, query, after=None, before=ask.before,
                                   limit=ask.count)
        except BusUnavailable:
            return {"sent": 0, "error": "the log bus is unavailable; try again", "retry": True}
        if page.entries:
            self._view.push_older(page.entries)
            await taken(self._client, self._view)
        return {"sent": len(page.entries), "search": True, "scanned": page.scanned,
                "next_before": page.next_before, "reached_start": page.reached_start}
