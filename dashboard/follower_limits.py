"""How many followers (open pages and event streams) a stream and a client may have, in this process.

A follower holds a subscription for as long as it stays open: this is a count of what is open,
not a rate, so it is kept here in this process rather than in `limits`' windows. With several
processes, each process allows the configured number.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .rate_limit import Refusal, RefusalCounts
from .settings import Settings


class FollowerLimits:
    """Open followers by stream and by client, each under its setting (0: no limit)."""

    def __init__(self, settings: Settings) -> None:
        self._per_stream = settings.viewers_per_stream
        self._per_client = settings.viewers_per_client
        # A place comes free when a follower leaves, and a page leaves this long after it closes: nothing says
        # when one will, so a retry is asked for after one page's window.
        self._retry_after_s = max(1, math.ceil(settings.page_reconnect_seconds))
        self._streams: dict[str, int] = {}
        self._clients: dict[str, int] = {}
        self.refusals = RefusalCounts()

    @property
    def per_client(self) -> int:
        """How many followers one client may have at once (0: no limit)."""
        return self._per_client

    def too_many_for_a_client(self, count: int) -> Refusal | None:
        """The refusal (counted) of a page that follows `count` streams at once when no client may follow so
        many, whatever else it has open; else None."""
        if not self._per_client or count <= self._per_client:
            return None
        return self.refusals.add(Refusal(
            "open pages and event streams per client", "--viewers-per-client",
            f"{self._per_client} in each server process", self._retry_after_s))

    def open(self, stream_id: str, client: str) -> Refusal | Callable[[], None]:
        """Count a new follower of `stream_id` from `client`: the function that uncounts it, or the refusal."""
        if self._per_stream and self._streams.get(stream_id, 0) >= self._per_stream:
            return self.refusals.add(Refusal(
                "open pages and event streams per stream", "--viewers-per-stream",
                f"{self._per_stream} in each server process", self._retry_after_s))
        if self._per_client and self._clients.get(client, 0) >= self._per_client:
            return self.refusals.add(Refusal(
                "open pages and event streams per client", "--viewers-per-client",
                f"{self._per_client} in each server process", self._retry_after_s))
        _increment(self._streams, stream_id, 1)
        _increment(self._clients, client, 1)
        closed = False

        def close() -> None:
            nonlocal closed
            if not closed:
                closed = True
                _increment(self._streams, stream_id, -1)
                _increment(self._clients, client, -1)

        return close


def _increment(counts: dict[str, int], key: str, step: int) -> None:
    count = counts.get(key, 0) + step
    if count > 0:
        counts[key] = count
    else:
        counts.pop(key, None)
