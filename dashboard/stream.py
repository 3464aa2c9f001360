"""The bus's interface: named streams of log entries that ingest writes and viewers follow.

Two backends live in `dashboard.bus`: the in-process one (the default) and Redis Streams (shared
by many processes); `dashboard.bus.create_bus` picks one. Both give every entry an ID of the form
`<ms>-<seq>`, and both hand a new subscriber its history and then the live entries, with no gap
and no duplicate.

**Where `deliver` runs.** On both backends a subscriber's `deliver` callback is called on the
event loop. The memory bus hands a write that follows a quiet spell on within `publish` when its
stream has only a few followers (the line reaches them before the POST is answered); other writes
it hands on right after, once per turn of the event loop for all that was written in it. The
Redis bus fans out in the process's one reader task. `deliver` must not block or await: it hands
the entries on (a queue, a coalescer) and returns.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import NamedTuple

from .entry import LogEntry, StreamEntry, within_bytes
from .protocol import RESUMED_FROM_START_NOTICE, entry_id_order

Deliver = Callable[[list[StreamEntry]], None]
# The history a new follower starts with is cut to its newest entries that take this much memory:
# every follower holds it (a page until its browser has taken it), so it bounds what one can pin.
# 1 MiB is some 5,000 lines of 200 bytes, or 16 of the largest (64 KiB).
MAX_HISTORY_BYTES = 1024 * 1024
# Told, in words for the viewer, when something happened to the stream itself (e.g. it was dropped).
Notice = Callable[[str], None]
# Told False when the bus stops giving entries (Redis is unreachable), and True when it gives them again.
Availability = Callable[[bool], None]

log = logging.getLogger(__name__)


class KeptCount(NamedTuple):
    """How many entries the bus keeps for a stream, and the newest one's ID (None while it keeps none),
    read together: a page counts on from there with the live entries newer than `newest`."""

    length: int
    newest: str | None


class BusUnavailable(RuntimeError):
    """The bus cannot take or give entries right now (e.g. Redis is down)."""


class BusFull(BusUnavailable):
    """The bus is out of memory (Redis at its `maxmemory` with `noeviction`): nothing was stored."""


class Subscriber:
    """One follower of one stream: delivers each entry once, in ID order.

    Until `start` is called it holds what arrives, so that history fetched in the meantime and the
    live entries join up with no gap; entries at or below the last delivered ID are dropped.
    """

    def __init__(self, stream_id: str, deliver: Deliver, *, after: str | None = None,
                 notice: Notice | None = None, availability: Availability | None = None) -> None:
        self.stream_id = stream_id
        self._deliver = deliver
        self._notice = notice
        self._availability = availability
        self._held: list[StreamEntry] | None = []
        self._last_id = entry_id_order(after) if after else (-1, -1)

    def start(self, history: list[StreamEntry], *, newest: str | None = None) -> None:
        """Deliver the history, then whatever arrived while it was fetched, then go live.

        `newest` is the ID of the newest entry the stream held when the history was read: what is
        not newer is history, delivered or left out on purpose, never a live entry.
        """
        held, self._held = self._held or [], None
        self._forward(history)
        if newest is not None:
            self._last_id = max(self._last_id, entry_id_order(newest))
        self._forward(held)

    def receive(self, entries: list[StreamEntry]) -> None:
        """Take live entries from the bus."""
        if self._held is not None:
            self._held.extend(entries)
        else:
            self._forward(entries)

    def tell(self, text: str) -> None:
        """Pass a notice about the stream on to the follower, if it takes them."""
        if self._notice is not None:
            try:
                self._notice(text)
            except Exception:
                log.exception("telling a subscriber of %s failed", self.stream_id)

    def set_available(self, available: bool) -> None:
        """Pass on whether the bus gives entries now, if the follower wants to know."""
        if self._availability is not None:
            try:
                self._availability(available)
            except Exception:
                log.exception("telling a subscriber of %s the bus's state failed", self.stream_id)

    def start_over(self) -> None:
        """The stream's entries were lost (the bus lost its data): take new ones whatever their IDs."""
        self._last_id = (-1, -1)

    def _forward(self, entries: list[StreamEntry]) -> None:
        first, last = _id_bounds(entries)
        if entries and first > self._last_id:
            # Entries come in ID order: all are new, and the list handed to every subscriber is
            # passed on as it is (viewers encode a list they share once, see rows_feed).
            self._last_id = last
            fresh = entries
        else:
            fresh = self._newer_than_last(entries)
        if fresh:
            try:
                self._deliver(fresh)
            except Exception:  # one broken viewer must not stop the others
                log.exception("delivering to a subscriber of %s failed", self.stream_id)

    def _newer_than_last(self, entries: list[StreamEntry]) -> list[StreamEntry]:
        fresh = []
        for stream_entry in entries:
            entry_id = entry_id_order(stream_entry.id)
            if entry_id > self._last_id:
                fresh.append(stream_entry)
                self._last_id = entry_id
        return fresh


class _LastBounds:
    """The ID order of the first and last entry of the list handed to subscribers last: each asks in turn."""

    entries: list[StreamEntry] | None = None
    bounds: tuple[tuple[int, int], tuple[int, int]] = ((-1, -1), (-1, -1))


def _id_bounds(entries: list[StreamEntry]) -> tuple[tuple[int, int], tuple[int, int]]:
    """`entry_id_order` of the first and last of `entries` (non-empty), worked out once per list."""
    if _LastBounds.entries is not entries and entries:
        _LastBounds.entries = entries
        _LastBounds.bounds = (entry_id_order(entries[0].id), entry_id_order(entries[-1].id))
    return _LastBounds.bounds


_FIRST_ID = "0-0"  # below every entry ID: a read after it starts at a stream's oldest entry


def _beyond(after: str, newest: str | None) -> bool:
    """Whether the entry ID `after` is newer than `newest`, the ID of a stream's newest entry (None: it has none)."""
    return newest is None or entry_id_order(after) > entry_id_order(newest)


# What a follower is told when a bounded resume left out the oldest of the entries it missed.
RESUME_CUT_NOTICE = ("more lines arrived while this page's connection was down than a page is sent at once: "
                     "the oldest of them are not shown here. Reload the page to see every line kept.")


class Fanout:
    """Which subscribers follow which stream in this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}
        self.available = True  # whether the bus gives entries now, as its reader last found

    def add(self, subscriber: Subscriber) -> None:
        """Start sending a stream's entries to `subscriber` (told at once if the bus is unavailable)."""
        self._subscribers.setdefault(subscriber.stream_id, set()).add(subscriber)
        if not self.available:
            subscriber.set_available(False)

    def remove(self, subscriber: Subscriber) -> None:
        """Stop sending to `subscriber`; forget the stream once nobody follows it."""
        followers = self._subscribers.get(subscriber.stream_id)
        if followers is None:
            return
        followers.discard(subscriber)
        if not followers:
            del self._subscribers[subscriber.stream_id]

    def streams(self) -> list[str]:
        """The streams that have at least one subscriber."""
        return list(self._subscribers)

    def count(self, stream_id: str) -> int:
        """How many subscribers follow `stream_id`."""
        return len(self._subscribers.get(stream_id, ()))

    def total(self) -> int:
        """How many subscribers there are, over all streams."""
        return sum(len(followers) for followers in self._subscribers.values())

    def dispatch(self, stream_id: str, entries: list[StreamEntry]) -> None:
        """Hand new entries of a stream to each of its subscribers."""
        for subscriber in list(self._subscribers.get(stream_id, ())):
            subscriber.receive(entries)

    def notify(self, stream_id: str, text: str) -> None:
        """Tell each subscriber of a stream that something happened to the stream itself."""
        for subscriber in list(self._subscribers.get(stream_id, ())):
            subscriber.tell(text)

    def set_available(self, available: bool) -> None:
        """Tell every subscriber, once per change, whether the bus gives entries now."""
        if available == self.available:
            return
        self.available = available
        for subscriber in self._every_subscriber():
            subscriber.set_available(available)

    def start_over(self, text: str) -> None:
        """The bus lost every stream's entries: each subscriber takes new ones afresh, and is told `text`."""
        for subscriber in self._every_subscriber():
            subscriber.start_over()
            subscriber.tell(text)

    def _every_subscriber(self) -> list[Subscriber]:
        return [subscriber for followers in self._subscribers.values() for subscriber in followers]


class Subscription:
    """What `Bus.subscribe` returns; `close()` stops the deliveries (safe to call twice).

    `history_whole`: the history it delivered holds every entry the stream had (none was left out).
    """

    def __init__(self, fanout: Fanout, subscriber: Subscriber, *, history_whole: bool = False) -> None:
        self._fanout = fanout
        self._subscriber = subscriber
        self.history_whole = history_whole

    def close(self) -> None:
        """Stop delivering entries."""
        self._fanout.remove(self._subscriber)


class Bus(ABC):
    """Publish entries to streams and follow them."""

    name: str
    keeps_entries_across_restarts: bool  # whether a stream outlives the process that serves it

    def __init__(self) -> None:
        self._fanout = Fanout()

    @abstractmethod
    async def start(self) -> None:
        """Connect and start background work; raise `BusUnavailable` if that is impossible."""

    @abstractmethod
    async def close(self) -> None:
        """Stop background work and release connections."""

    @abstractmethod
    async def publish(self, stream_id: str, entries: Sequence[LogEntry], *, batch_key: str | None = None) -> list[str]:
        """Append entries to a stream, all or none, in order; return their IDs.

        A `batch_key` (a client's `Idempotency-Key`) seen for this stream within the last
        `protocol.BATCH_KEY_SECONDS` stores nothing: the IDs its first batch stored (those still
        kept) are returned instead.
        """

    async def subscribe(self, stream_id: str, deliver: Deliver, *, history: int, after: str | None = None,
                        after_limit: int | None = None, notice: Notice | None = None,
                        availability: Availability | None = None, tell_cut: bool = True,
                        after_received: bool = True) -> Subscription:
        """Deliver the last `history` entries of a stream, then each new one, to `deliver`.

        With `after` (an entry ID) it delivers instead every entry still kept after that ID, so a
        follower that lost its connection resumes with no gap and no duplicate. `after` only
        filters what this subscriber receives. `notice` is told what happens to the stream itself
        (the memory bus dropping it to stay within its budget, Redis losing its data), and
        `availability` whether the bus gives entries now (False while Redis is unreachable). The
        history is at most `MAX_HISTORY_BYTES` (its newest entries); a resume after `after` is not cut,
        unless `after_limit` is given: then it is at most the newest `after_limit` entries after it, and
        at most `MAX_HISTORY_BYTES` too (a resume that costs no more than opening the stream), and
        `notice` is told when that left entries out, unless `tell_cut` is False (not a resume: e.g. a
        page that opens after a linked line's context, whose reader gets the newest on going live).
        An `after` newer than the stream's newest entry, if the follower received it from the stream
        (`after_received`), is from before the stream lost its entries: all it holds follows, and
        `notice` is told `RESUMED_FROM_START_NOTICE`.
        """
        subscriber = Subscriber(stream_id, deliver, after=after, notice=notice, availability=availability)
        self._fanout.add(subscriber)  # first: the subscriber holds what arrives while the backlog is read
        try:
            backlog, newest = await self._backlog(stream_id, history=history, after=after, limit=after_limit)
            if after is not None and after_received and not backlog and _beyond(after, newest):
                # `after` is newer than every entry of the stream: it was handed out before the stream lost
                # its entries (a server on the memory bus restarted, with its clock behind the last one's).
                # All the stream holds is new to this follower, and so is all that comes; it is told, so
                # that it does not drop them as older than what it has.
                subscriber.start_over()
                if newest is not None:
                    backlog, newest = await self._backlog(stream_id, history=history, after=_FIRST_ID,
                                                          limit=after_limit)
                # (An empty stream followed from its start, `after=0` as tail starts, lost nothing.)
                if notice is not None and (newest is not None or entry_id_order(after) > (0, 0)):
                    notice(RESUMED_FROM_START_NOTICE)
        except BaseException:
            self._fanout.remove(subscriber)
            raise
        read = len(backlog)
        if after is None or after_limit is not None:
            backlog = within_bytes(backlog, MAX_HISTORY_BYTES, keep_newest=True)
        subscriber.start(backlog, newest=newest)
        if after is not None and after_limit is not None and backlog and notice is not None and tell_cut \
                and await self._skipped_after(stream_id, after, backlog[0].id):
            notice(RESUME_CUT_NOTICE)
        return Subscription(self._fanout, subscriber,
                            history_whole=after is None and read < history and len(backlog) == read)

    async def _skipped_after(self, stream_id: str, after: str, first_sent: str) -> bool:
        """Whether entries kept between `after` and `first_sent` were left out of a bounded resume."""
        try:
            following = await self.read(stream_id, after=after, limit=1)
        except BusUnavailable:
            return False  # the resume itself was read: say nothing rather than guess
        return bool(following) and following[0].id != first_sent

    @abstractmethod
    async def _backlog(self, stream_id: str, *, history: int, after: str | None,
                       limit: int | None = None) -> tuple[list[StreamEntry], str | None]:
        """What a new subscriber starts with, and the ID of the stream's newest entry (None if empty).

        The backlog is every entry kept after `after` (the newest `limit` of them, if given), or else
        the last `history`. Also makes sure that, from now on, the stream's new entries reach the fan-out.
        """

    @abstractmethod
    async def read(self, stream_id: str, *, after: str | None, limit: int) -> list[StreamEntry]:
        """Up to `limit` entries, oldest first: the first ones after `after`, or without it the newest."""

    @abstractmethod
    async def read_before(self, stream_id: str, *, before: str, limit: int) -> list[StreamEntry]:
        """Up to `limit` entries older than `before`, oldest first: the newest ones before it."""

    @abstractmethod
    async def kept(self, stream_id: str) -> KeptCount:
        """How many entries the bus keeps for the stream now, and the newest one's ID, at one moment
        (0 and None for a stream it does not know); cheap."""

    async def ready(self) -> str | None:
        """None when the bus can take and give entries now, else why not (for `/readyz`)."""
        return None

    async def history_lost(self, stream_id: str) -> str | None:
        """Why the stream's earlier entries are gone, if the bus itself knows they were lost (else None)."""
        return None

    def stats(self) -> dict[str, int]:
        """Figures for `/healthz` that only this backend has (none by default)."""
        return {}

    @property
    def available(self) -> bool:
        """Whether the bus gives entries now, as its reader last found (what subscribers were last told)."""
        return self._fanout.available

    def viewer_count(self, stream_id: str) -> int:
        """How many subscribers follow `stream_id` in this process."""
        return self._fanout.count(stream_id)

    def viewer_total(self) -> int:
        """How many subscribers this process has, over all streams."""
        return self._fanout.total()
