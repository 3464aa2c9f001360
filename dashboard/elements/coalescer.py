"""Hand items on in batches, at most one batch per interval, without delaying a quiet stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

Item = TypeVar("Item")


class Timer(Protocol):
    """A scheduled call that can be called off (asyncio's `TimerHandle` is one)."""

    def cancel(self) -> None: ...


# Calls a function after a delay in seconds, like `loop.call_later`.
CallLater = Callable[[float, Callable[[], None]], Timer]


def call_later_on_running_loop(delay: float, callback: Callable[[], None]) -> Timer:
    """Schedule `callback` on the running event loop (whose clock is `time.monotonic`)."""
    return asyncio.get_running_loop().call_later(delay, callback)


class Coalescer(Generic[Item]):
    """Gathers items and calls `deliver` with them in order.

    The first items after a quiet spell are delivered at once; items that arrive less than
    `interval_s` after a delivery wait for the next one, so a busy source makes one call per interval.
    `clock` and `call_later` must agree on the time; by default they are the running event loop's.
    """

    def __init__(self, deliver: Callable[[list[Item]], None], interval_s: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 call_later: CallLater = call_later_on_running_loop) -> None:
        self._deliver = deliver
        self._interval_s = interval_s
        self._clock = clock
        self._call_later = call_later
        self._waiting: list[Item] = []
        self._last_delivery = -interval_s
        self._timer: Timer | None = None

    def add(self, items: Iterable[Item]) -> None:
        """Queue `items`, delivering now if the last delivery was at least one interval ago."""
        self._waiting.extend(items)
        if not self._waiting or self._timer is not None:
            return
        wait = self._last_delivery + self._interval_s - self._clock()
        if wait <= 0:
            self._flush()
        else:
            self._timer = self._call_later(wait, self._flush)

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
        self._last_delivery = self._clock()
        self._deliver(batch)
