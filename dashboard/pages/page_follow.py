"""A page follows its streams: one, or several merged (their histories by time, live rows as they come).

Each stream is one subscription. While they are made, what each delivers is gathered; once all are
made, the gathered rows go to the page as history, merged by entry ID (the time the bus took each),
and from then on each stream's rows go as they come, marked with the stream's index in the page
(those that come in one turn of the event loop, as one Redis read brings them, merged by ID too).
A merged history starts where every stream's is whole (`merged_pages.from_common_start`): a busy
stream's newest lines reach back less far than a quiet one's, and the quiet one's older lines come
with the older lines the page asks for, not as a hole in the busy one's.
After a dropped socket, each stream is subscribed again after the last entry the page has of it
(one it has none of: after the page's newest row, as nothing of it is newer than the page's oldest).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

from nicegui import Client, background_tasks, ui

from ..elements.log_view import LogView, ResumePoints
from ..elements.rows_feed import StreamTag
from ..entry import StreamEntry
from ..merged_pages import from_common_start, merged_by_id
from ..protocol import MAX_ENTRY_ID_PART, entry_id_order
from ..stream import Bus, BusUnavailable, Subscription
from .restart_notice import Push

_RETRY_DELAYS_S = (1.0, 2.0, 5.0)
# After a dropped socket, the page is sent at most this many of the entries it missed (and 1 MiB), per stream.
RESUME_ENTRIES = 1000


class _OneTurnMerged:
    """A merged view's live rows: what its streams deliver in one turn of the event loop goes on in ID order.

    One Redis read brings several streams' entries, each stream's after the other's: after an outage, a
    backlog of one stream would follow the other's newer rows.
    """

    def __init__(self, push: Push, streams: int) -> None:
        self._push = push
        self._streams = streams
        self._waiting: dict[int, list[StreamEntry]] = {}
        self._closed = False

    def __call__(self, entries: list[StreamEntry], tag: StreamTag) -> None:
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._push_waiting)
        self._waiting.setdefault(cast(int, tag), []).extend(entries)

    def close(self) -> None:
        """Push nothing more: the subscriptions that delivered these rows are closed (a resume sends them)."""
        self._closed = True

    def _push_waiting(self) -> None:
        waiting, self._waiting = self._waiting, {}
        if self._closed:
            return
        if len(waiting) == 1:
            [(tag, entries)] = waiting.items()
            self._push(entries, tag)
        else:
            self._push(*merged_by_id([waiting.get(index, []) for index in range(self._streams)]))


class _Gate:
    """One stream's deliveries: gathered while the page's subscriptions are made, then pushed as they come."""

    def __init__(self, push: Push, tag: int | None) -> None:
        self._push = push
        self._tag = tag
        self.gathered: list[StreamEntry] | None = []

    def __call__(self, entries: list[StreamEntry]) -> None:
        if self.gathered is not None:
            self.gathered.extend(entries)
        else:
            self._push(entries, self._tag)


async def follow(client: Client, view: LogView, bus: Bus, stream_ids: Sequence[str], push: Push, history: int, *,
                 notice: Callable[[str], None], start_after: ResumePoints | None = None,
                 recount: Callable[[], Awaitable[None]] | None = None) -> None:
    """Subscribe the view to the streams (bus names) for the client's lifetime, retrying while the bus is down.

    Each from its history, or with `start_after` from the entry after the one named for it. With
    one stream, rows carry no stream index (the page of one stream).

    The status bar says whether the bus gives lines: the subscriptions tell it while they last. When
    the page's socket comes back after a drop, each stream is subscribed again after the last entry
    the page has of it, so it misses nothing and is sent nothing twice (or, when a resume cannot
    read back that far, `notice` says that lines were left out). `recount` (the count of what the bus keeps)
    is started again after each resume, when the bus comes back, and when it tells of its streams (lost, cut).
    """
    subscriptions: list[Subscription] = []
    live_merges: list[_OneTurnMerged] = []
    one_at_a_time = asyncio.Lock()  # a second drop while resuming must not leave two subscriptions
    merged = len(stream_ids) > 1

    def close() -> None:
        for subscription in subscriptions:
            subscription.close()
        subscriptions.clear()
        for live_merge in live_merges:
            live_merge.close()
        live_merges.clear()

    async def subscribe(after: ResumePoints, *, resuming: bool = True) -> None:
        async with one_at_a_time:
            await subscribe_now(after, resuming)

    async def subscribe_all(after: ResumePoints, resuming: bool) -> None:
        with view.receiving_history():
            close()
            live: Push = push
            if merged:
                live_merges.append(live := _OneTurnMerged(push, len(stream_ids)))
            gates = [_Gate(live, index if merged else None) for index in range(len(stream_ids))]
            newest = _before_newest(after)
            for index, stream_id in enumerate(stream_ids):
                # A resume is bounded like a page open: a page that drops its socket on purpose,
                # again and again, costs no more than one that reloads.
                subscriptions.append(await bus.subscribe(
                    stream_id, gates[index], history=history, after=after.get(index, newest),
                    after_limit=max(history, RESUME_ENTRIES), notice=told,
                    availability=availability, tell_cut=resuming, after_received=index in after))
            batches = [gate.gathered or [] for gate in gates]
            for gate in gates:
                gate.gathered = None  # from here on, each stream's rows go as they come
            if merged:
                if not after:  # the page opens (or had nothing): its history
                    batches = from_common_start(batches, [subscription.history_whole for subscription in subscriptions])
                entries, streams = merged_by_id(batches)
                if entries:
                    push(entries, streams)
            elif batches[0]:
                push(batches[0], None)

    async def subscribe_now(after: ResumePoints, resuming: bool) -> None:
        attempt = 0
        while not client.is_deleted:
            try:
                await subscribe_all(after, resuming)
            except BusUnavailable:
                close()
                if attempt == 0:
                    view.set_bus_available(False)
                    with client:
                        ui.notify("The log bus is unavailable; retrying…", type="warning")
                await asyncio.sleep(_RETRY_DELAYS_S[min(attempt, len(_RETRY_DELAYS_S) - 1)])
                attempt += 1
                continue
            if client.is_deleted:  # closed while we were subscribing
                close()
                return
            if attempt > 0:
                availability(bus.available)  # from now on, the subscriptions tell it each change
                with client:
                    ui.notify("Connected to the log bus again", type="positive")
            return

    def count_again() -> None:
        if recount is not None and not client.is_deleted:
            background_tasks.create(recount(), name=f"kept count {client.id}")

    def availability(available: bool) -> None:
        view.set_bus_available(available)
        if available:
            count_again()

    def told(text: str) -> None:
        notice(text)
        count_again()

    async def resume_then_tell(after: ResumePoints) -> None:
        await subscribe(after)
        count_again()

    def resume(after: ResumePoints) -> None:
        background_tasks.create(resume_then_tell(after), name=f"resume {client.id}")

    view.on_resume(resume)
    client.on_delete(close)  # after NiceGUI's reconnect window, not on a brief drop
    await subscribe(start_after or {}, resuming=False)


def _before_newest(after: ResumePoints) -> str | None:
    """Just before the millisecond of the newest entry the page has (None if it has none).

    A stream the page has no row of resumes from there: also its entries taken in that same
    millisecond as the page's newest are new to the page.
    """
    if not after:
        return None
    milliseconds, _ = max(entry_id_order(entry_id) for entry_id in after.values())
    return f"{milliseconds - 1}-{MAX_ENTRY_ID_PART}" if milliseconds else "0-0"
