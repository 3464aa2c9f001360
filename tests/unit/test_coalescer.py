"""Coalescer: a quiet source is not delayed; a busy one makes one delivery per interval, in order.

The time is a fake one that moves only when a test says so: no sleeps, and no event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dashboard.elements.coalescer import Coalescer

INTERVAL_S = 0.5  # fake seconds; the steps below are exact binary fractions of it
STEP_S = 0.125


@dataclass
class FakeTimer:
    due: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeTime:
    """A clock and the calls scheduled on it; `advance` runs those that come due, in order."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[FakeTimer] = []

    def clock(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self.now + delay, callback)
        self.timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while due := [timer for timer in self.timers if timer.due <= end and not timer.cancelled]:
            timer = min(due, key=lambda timer: timer.due)
            self.timers.remove(timer)
            self.now = timer.due
            timer.callback()
        self.now = end

    def pending(self) -> list[FakeTimer]:
        return [timer for timer in self.timers if not timer.cancelled]


def collector(time: FakeTime) -> tuple[list[list[int]], Coalescer[int]]:
    deliveries: list[list[int]] = []
    return deliveries, Coalescer(deliveries.append, INTERVAL_S, clock=time.clock, call_later=time.call_later)


def test_the_first_items_are_delivered_at_once() -> None:
    time = FakeTime()
    deliveries, coalescer = collector(time)
    coalescer.add([1, 2])
    assert deliveries == [[1, 2]]
    assert time.pending() == []


def test_items_within_the_interval_wait_and_go_together_in_order() -> None:
    time = FakeTime()
    deliveries, coalescer = collector(time)
    coalescer.add([1])
    time.advance(STEP_S)
    coalescer.add([2])
    coalescer.add([3, 4])
    assert deliveries == [[1]]
    assert len(time.pending()) == 1  # one timer for all that waits
    time.advance(INTERVAL_S - 2 * STEP_S)
    assert deliveries == [[1]]
    time.advance(STEP_S)  # one interval after the first delivery, not after the items came
    assert deliveries == [[1], [2, 3, 4]]


def test_a_busy_source_makes_one_delivery_per_interval() -> None:
    time = FakeTime()
    deliveries, coalescer = collector(time)
    for item in range(20):  # four items per interval
        coalescer.add([item])
        time.advance(STEP_S)
    time.advance(INTERVAL_S)
    assert [delivery[0] for delivery in deliveries] == [0, 1, 4, 8, 12, 16]
    assert [item for delivery in deliveries for item in delivery] == list(range(20))


def test_after_a_quiet_spell_items_go_at_once_again() -> None:
    time = FakeTime()
    deliveries, coalescer = collector(time)
    coalescer.add([1])
    time.advance(INTERVAL_S)
    coalescer.add([2])
    assert deliveries == [[1], [2]]


def test_nothing_to_add_delivers_nothing() -> None:
    time = FakeTime()
    deliveries, coalescer = collector(time)
    coalescer.add([])
    time.advance(INTERVAL_S * 2)
    assert deliveries == []
    assert time.pending() == []


def test_cancel_drops_what_waits() -> None:
    time = FakeTime()
    deliveries, coalescer = collector(time)
    coalescer.add([1])
    coalescer.add([2])
    coalescer.cancel()
    assert time.pending() == []
    time.advance(INTERVAL_S * 2)
    assert deliveries == [[1]]
    coalescer.add([3])
    assert deliveries == [[1], [3]]
