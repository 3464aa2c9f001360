"""The bus: named streams of log entries that ingest writes and viewers follow.

One interface, two backends: `MemoryBus` (in this process, the default) and `RedisBus` (Redis
Streams, shared by many processes). Both give every entry an ID of the form `<ms>-<seq>`, and
both hand a new subscriber its history and then the live entries, with no gap and no duplicate.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .entry import LogEntry, StreamEntry

if TYPE_CHECKING:
    from .settings import Settings

Deliver = Callable[[list[StreamEntry]], None]
EntryId = tuple[int, int]

log = logging.getLogger(__name__)


class BusUnavailable(RuntimeError):
    """The bus cannot take or give entries right now (e.g. Redis is down)."""


_ENTRY_ID = re.compile(r"\d{1,20}(-\d{1,20})?")


def parse_entry_id(entry_id: str) -> EntryId:
    """`'1700000000000-3'` → `(1700000000000, 3)`, which orders like the stream."""
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def is_entry_id(text: str) -> bool:
    """True for an entry ID as the bus writes it, `<ms>-<seq>`, or just `<ms>`."""
    return _ENTRY_ID.fullmatch(text) is not None


class Subscriber:
    """One follower of one stream: delivers each entry once, in ID order.

    Until `start` is called it holds what arrives, so that history fetched in the meantime and the
    live entries join up with no gap; entries at or below the last delivered ID are dropped.
    """

    def __init__(self, stream_id: str, deliver: Deliver, *, after: str | None = None) -> None:
        self.stream_id = stream_id
        self._deliver = deliver
        self._held: list[StreamEntry] | None = []
        self._last_id: EntryId = parse_entry_id(after) if after else (-1, -1)

    def start(self, history: list[StreamEntry]) -> None:
        """Deliver the history, then whatever arrived while it was fetched, then go live."""
        held, self._held = self._held or [], None
        self._forward(history + held)

    def receive(self, entries: list[StreamEntry]) -> None:
        """Take live entries from the bus."""
        if self._held is not None:
            self._held.extend(entries)
        else:
            self._forward(entries)

    def _forward(self, entries: list[StreamEntry]) -> None:
        fresh = []
        for stream_entry in entries:
            entry_id = parse_entry_id(stream_entry.id)
            if entry_id > self._last_id:
                fresh.append(stream_entry)
                self._last_id = entry_id
        if fresh:
            try:
                self._deliver(fresh)
            except Exception:  # one broken viewer must not stop the others
                log.exception("delivering to a subscriber of %s failed", self.stream_id)


class Fanout:
    """Which subscribers follow which stream in this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}

    def add(self, subscriber: Subscriber) -> None:
        """Start sending a stream's entries to `subscriber`."""
        self._subscribers.setdefault(subscriber.stream_id, set()).add(subscriber)

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


class Subscription:
    """What `Bus.subscribe` returns; `close()` stops the deliveries (safe to call twice)."""

    def __init__(self, fanout: Fanout, subscriber: Subscriber) -> None:
        self._fanout = fanout
        self._subscriber = subscriber

    @property
    def stream_id(self) -> str:
        """The stream this subscription follows."""
        return self._subscriber.stream_id

    def close(self) -> None:
        """Stop delivering entries."""
        self._fanout.remove(self._subscriber)


class Bus(ABC):
    """Publish entries to streams and follow them."""

    name: str

    def __init__(self) -> None:
        self._fanout = Fanout()

    @abstractmethod
    async def start(self) -> None:
        """Connect and start background work; raise `BusUnavailable` if that is impossible."""

    @abstractmethod
    async def close(self) -> None:
        """Stop background work and release connections."""

    @abstractmethod
    async def publish(self, stream_id: str, entries: Sequence[LogEntry]) -> list[str]:
        """Append entries to a stream, all or none, in order; return their IDs."""

    @abstractmethod
    async def subscribe(self, stream_id: str, deliver: Deliver, *, history: int,
                        after: str | None = None) -> Subscription:
        """Deliver the last `history` entries of a stream, then each new one, to `deliver`.

        With `after` (an entry ID) it delivers instead every entry still kept after that ID, so a
        follower that lost its connection resumes with no gap and no duplicate.
        """

    @abstractmethod
    async def read(self, stream_id: str, *, after: str | None, limit: int) -> list[StreamEntry]:
        """Up to `limit` entries, oldest first: the first ones after `after`, or without it the newest."""

    def viewer_count(self, stream_id: str) -> int:
        """How many subscribers follow `stream_id` in this process."""
        return self._fanout.count(stream_id)

    def viewer_total(self) -> int:
        """How many subscribers this process has, over all streams."""
        return self._fanout.total()


def create_bus(settings: Settings) -> Bus:
    """The Redis bus when a Redis URL is configured, else the in-process one."""
    if settings.redis_url:
        from .bus_redis import RedisBus

        return RedisBus(settings.redis_url, max_length=settings.max_stream_length,
                        retention_seconds=settings.retention_seconds)
    from .bus_memory import MemoryBus

    return MemoryBus(max_length=settings.max_stream_length, retention_seconds=settings.retention_seconds)
