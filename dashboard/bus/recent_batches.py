"""The memory bus's record of recent batch keys (`Idempotency-Key`): which entries each one stored.

Bounded twice: a key is forgotten `ttl` seconds after it was stored, and beyond `max_keys` the
oldest keys go first. Each key keeps only the IDs of its batch's first and last entry.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

# A stored batch: (when it was stored, its first entry's ID, its last entry's ID).
StoredBatch = tuple[float, str, str]
MAX_KEYS = 100_000


class RecentBatches:
    """Stream and batch key → the ID range that batch stored, for `ttl` seconds."""

    def __init__(self, ttl: float, *, max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max_keys = max_keys
        self._clock = clock
        self._stored: OrderedDict[tuple[str, str], StoredBatch] = OrderedDict()

    def __len__(self) -> int:
        return len(self._stored)

    def get(self, stream_id: str, key: str) -> tuple[str, str] | None:
        """The first and last ID the batch `key` stored in the stream, or None if it is not (or no longer) known."""
        self._forget_expired()
        stored = self._stored.get((stream_id, key))
        return None if stored is None else (stored[1], stored[2])

    def remember(self, stream_id: str, key: str, first: str, last: str) -> None:
        """Record that the batch `key` stored the entries from `first` to `last`."""
        self._stored[(stream_id, key)] = (self._clock(), first, last)
        while len(self._stored) > self._max_keys:
            self._stored.popitem(last=False)

    def _forget_expired(self) -> None:
        cutoff = self._clock() - self._ttl
        while self._stored:
            stored_at = next(iter(self._stored.values()))[0]
            if stored_at >= cutoff:
                break
            self._stored.popitem(last=False)
