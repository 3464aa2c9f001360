"""Built pages kept out of Python's full garbage collections, and their leftovers collected in one go.

A page is some 3,500 objects in a UI process (NiceGUI's elements with their props, classes,
styles, slots and listeners). CPython's full collection walks every tracked object and holds the
event loop while it does: at 2,000 open pages, 7 million objects and about 2 s here, once for
every quarter the long-lived objects grew. Rows stopped reaching every page for that long.

So what is alive when a page's socket connects, and what survives a full collection, is moved
out of the collector's reach (`gc.freeze()`, which costs nothing): reference counting still frees
a frozen object nothing refers to, but a cycle among frozen objects stays. A page that closes
leaves such cycles (its elements, slots and handlers refer to each other), so once the closed
pages left about a quarter as many objects as the last reclaim kept (and at least
`MIN_CLOSED_PAGES` closed), and at least once an hour for anything else, everything is put back,
collected once and frozen again. That is the work
Python's own rule does for growth, but paid for pages that went away, not for pages that came or
for the tasks and messages every open page keeps making. And the middle generation is collected
less often (`YOUNG_COLLECTIONS_PER_MIDDLE`), so that those tasks are not promoted to the old one.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass

from nicegui import Client
from nicegui import app as nicegui_app

# Young collections before the middle generation is collected (Python's default: 10). With 10, a
# middle collection comes every few thousand allocations, and the tasks and timers every open page
# keeps making (NiceGUI wakes each page's outbox every second) live long enough to be promoted to
# the old generation, which then needs a full collection of what is not frozen every few seconds:
# 130 ms at 2,000 pages. With 1,000, they are freed long before.
YOUNG_COLLECTIONS_PER_MIDDLE = 1000
# Closed pages' leftovers wait for a collection until at least this many pages closed (a few MB).
MIN_CLOSED_PAGES = 32
# About how many objects a page leaves behind when it closes (measured: ~2,760 of its ~3,500).
OBJECTS_PER_CLOSED_PAGE = 3000
# Cycles that are not a closed page's (say, of a finished request that outlived a full collection)
# are collected at least this often.
RECLAIM_AT_LEAST_EVERY_S = 3600.0


@dataclass
class HeapState:
    """What `/healthz` shows of it."""

    reclaims: int = 0
    closed_since_reclaim: int = 0
    last_reclaim_ms: float = 0.0
    kept_after_reclaim: int = 0  # objects alive after the last reclaim (all frozen again)

    def as_dict(self) -> dict[str, int]:
        """The figures, in whole numbers (each costs nothing to read: `/healthz` is public)."""
        return {"reclaims": self.reclaims, "closed_since_reclaim": self.closed_since_reclaim,
                "last_reclaim_ms": round(self.last_reclaim_ms), "kept_after_reclaim": self.kept_after_reclaim}


def reclaim_due(closed_pages: int, kept_objects: int) -> bool:
    """Whether the pages closed since the last reclaim left enough to collect now: a quarter as many
    objects as the last reclaim kept (a reclaim walks them all: open pages, and the entries the
    in-process bus holds), and at least `MIN_CLOSED_PAGES` pages' worth."""
    left = closed_pages * OBJECTS_PER_CLOSED_PAGE
    return closed_pages >= MIN_CLOSED_PAGES and left >= kept_objects // 4


class PageHeap:
    """Freezes what is alive as each page connects and after each full collection; reclaims as pages close."""

    def __init__(self) -> None:
        self.state = HeapState()
        self._reclaim_scheduled = False
        self._reclaiming = False
        self._hourly: asyncio.TimerHandle | None = None
        self._answered: set[str] = set()  # clients being deleted that drew no page (answered_instead)

    def install(self) -> None:
        """Follow NiceGUI's clients and Python's collections (once per process)."""
        nicegui_app.on_startup(self._start_hourly)
        nicegui_app.on_shutdown(self._stop_hourly)
        nicegui_app.on_connect(self.page_connected)
        nicegui_app.on_delete(self.page_closed)
        gc.callbacks.append(self.after_collection)
        young, _, old = gc.get_threshold()
        gc.set_threshold(young, YOUNG_COLLECTIONS_PER_MIDDLE, old)

    def page_connected(self) -> None:
        """Move everything alive out of the full collections' reach, after freeing young garbage.

        The young generations are collected first (cheap: they are small), so that cycles about
        to be freed are not frozen with the page.
        """
        gc.collect(1)
        gc.freeze()

    def answered_instead(self, client: Client) -> None:
        """`client` is deleted before its page drew anything (a 404, a redirect, a refusal in its place): it
        leaves next to nothing, so it is not counted as a closed page (counted, a stream of bad addresses
        made a full collection every 32 requests)."""
        self._answered.add(client.id)

    def page_closed(self, client: Client) -> None:
        """Count a deleted page; schedule a reclaim when enough pages closed."""
        if client.id in self._answered:
            self._answered.discard(client.id)
            return
        self.state.closed_since_reclaim += 1
        kept = self.state.kept_after_reclaim or len(Client.instances) * OBJECTS_PER_CLOSED_PAGE
        if reclaim_due(self.state.closed_since_reclaim, kept):
            self._schedule_reclaim()

    def reclaim(self) -> None:
        """Collect everything once (closed pages' cycles included), then freeze what survived."""
        started = time.perf_counter()
        self._reclaiming = True
        try:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        finally:
            self._reclaiming = False
        state = self.state
        state.last_reclaim_ms = (time.perf_counter() - started) * 1000
        state.kept_after_reclaim = gc.get_freeze_count()
        state.reclaims += 1
        state.closed_since_reclaim = 0
        self._reclaim_scheduled = False

    def _schedule_reclaim(self) -> None:
        if not self._reclaim_scheduled:
            self._reclaim_scheduled = True
            # Not inside NiceGUI's delete: the client being deleted must be gone before the collection.
            asyncio.get_running_loop().call_soon(self.reclaim)

    def after_collection(self, phase: str, info: dict[str, int]) -> None:
        """A `gc.callbacks` callback: what survived a full collection lives long; the next need not walk it."""
        if phase == "stop" and info["generation"] == 2 and not self._reclaiming:
            gc.freeze()

    def _start_hourly(self) -> None:
        self._hourly = asyncio.get_running_loop().call_later(RECLAIM_AT_LEAST_EVERY_S, self._reclaim_hourly)

    def _reclaim_hourly(self) -> None:
        self._schedule_reclaim()
        self._start_hourly()

    def _stop_hourly(self) -> None:
        if self._hourly is not None:
            self._hourly.cancel()


page_heap = PageHeap()
