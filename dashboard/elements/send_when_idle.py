"""Hand items on at once when the way out is free; gather what comes while it is busy into the next hand-over."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

Item = TypeVar("Item")

# While the way out is busy, how often to look whether it is free again. Only a busy page pays this
# wait (its socket has earlier messages still to write); an idle one is sent to at once.
RECHECK_S = 0.004


class Timer(Protocol):
    """A scheduled call that can be called off (asyncio's `TimerHandle` is one)."""

    def cancel(self) -> None: ...


# Calls a function after a delay in seconds, like `loop.call_later`.
CallLater = Callable[[float, Callable[[], None]], Timer]


def call_later_on_running_loop(delay: float, callback: Callable[[], None]) -> Timer:
    """Schedule `callback` on the running event loop."""
    return asyncio.get_running_loop().call_later(delay, callback)


class SendWhenIdle(Generic[Item]):
    """Calls `deliver` with items in order: at once when `busy()` is false, else gathered until it is.

    No timer runs for a quiet source; a busy way out makes one delivery of everything gathered as
    soon as it is free, so batches grow with load instead of with a fixed interval.
    """

    def __init__(self, deliver: Callable[[list[Item]], None], *, busy: Callable[[], bool],
                 call_later: CallLater = call_later_on_running_loop, recheck_s: float = RECHECK_S) -> None:
        self._deliver = deliver
        self._busy = busy
        self._call_later = call_later
        self._recheck_s = recheck_s
        self._waiting: list[Item] = []
        self._timer: Timer | None = None

    @property
    def waiting(self) -> bool:
        """Whether items are gathered and not yet delivered."""
        return bool(self._waiting)

    def add(self, items: list[Item]) -> None:
        """Deliver `items` now if nothing waits and the way out is free, else gather them."""
        if not items:
            return
        if not self._waiting and not self._busy():
            self._deliver(items)
            return
        self._waiting.extend(items)
        if self._timer is None:
            self._timer = self._call_later(self._recheck_s, self._check)

    def cancel(self) -> None:
        """Drop what is gathered and deliver nothing more until the next `add`."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting = []

    def _check(self) -> None:
        self._timer = None
        if not self._waiting:
            return
        if self._busy():
            self._timer = self._call_later(self._recheck_s, self._check)
            return
        gathered, self._waiting = self._waiting, []
        self._deliver(gathered)
