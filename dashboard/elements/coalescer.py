"""Hand items on in batches, at most one batch per interval, without delaying a quiet stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class Coalescer(Generic[Item]):
    """Gathers items and calls `deliver` with them in order.

    The first items after a quiet spell are delivered at once; items that arrive less than
    `interval_s` after a delivery wait for the next one, so a busy source makes one call per interval.
    Runs on the event loop it is used from.
    """

    def __init__(self, deliver: Callable[[list[Item]], None], interval_s: float) -> None:
        self._deliver = deliver
        self._interval_s = interval_s
        self._waiting: list[Item] = []
        self._last_delivery = -interval_s
        self._timer: asyncio.TimerHandle | None = None

    def add(self, items: Iterable[Item]) -> None:
        """Queue `items`, delivering now if the last delivery was at least one interval ago."""
        self._waiting.extend(items)
        if not self._waiting or self._timer is not None:
            return
        wait = self._last_delivery + self._interval_s - time.monotonic()
        if wait <= 0:
            self._flush()
        else:
            self._timer = asyncio.get_running_loop().call_later(wait, self._flush)

    def cancel(self) -> None:
        """Drop what is waiting and deliver nothing more until the next `add`."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting = []

    def _flush(self) -> None:
        self._timer = None
        if not self._waiting:
            return
        batch, self._waiting = self._waiting, []
        self._last_delivery = time.monotonic()
        self._deliver(batch)
