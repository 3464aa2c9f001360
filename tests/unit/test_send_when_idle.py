"""SendWhenIdle: an idle way out is used at once, with no timer; a busy one gathers until it is free.

The time is a fake one that moves only when a test says so: no sleeps, and no event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dashboard.elements.send_when_idle import SendWhenIdle

RECHECK_S = 0.25  # fake seconds


@dataclass
class FakeTimer:
    due: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeTime:
    """The calls scheduled on a fake clock; `advance` runs those that come due, in order."""

    now: float = 0.0
    timers: list[FakeTimer] = field(default_factory=list)

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


@dataclass
class Way:
    """A way out that is busy while the test says so."""

    busy: bool = False
    deliveries: list[list[int]] = field(default_factory=list)

    def is_busy(self) -> bool:
        return self.busy


def sender(time: FakeTime, way: Way) -> SendWhenIdle[int]:
    return SendWhenIdle(way.deliveries.append, busy=way.is_busy, call_later=time.call_later, recheck_s=RECHECK_S)


def test_items_for_an_idle_way_go_at_once_and_schedule_nothing() -> None:
    time, way = FakeTime(), Way()
    send = sender(time, way)
    send.add([1])
    send.add([2, 3])
    assert way.deliveries == [[1], [2, 3]]
    assert time.pending() == []
    assert not send.waiting


def test_items_for_a_busy_way_are_gathered_and_go_together_once_it_is_free() -> None:
    time, way = FakeTime(), Way(busy=True)
    send = sender(time, way)
    send.add([1])
    send.add([2])
    assert way.deliveries == []
    assert send.waiting
    time.advance(RECHECK_S)  # still busy: looked again later, nothing sent
    send.add([3])
    assert way.deliveries == []
    assert len(time.pending()) == 1  # one look at a time, however much is gathered
    way.busy = False
    time.advance(RECHECK_S)
    assert way.deliveries == [[1, 2, 3]]
    assert time.pending() == []


def test_an_item_after_gathered_ones_waits_behind_them_even_when_the_way_is_free() -> None:
    time, way = FakeTime(), Way(busy=True)
    send = sender(time, way)
    send.add([1])
    way.busy = False
    send.add([2])  # the way is free now, but 1 has not gone yet: order holds
    assert way.deliveries == []
    time.advance(RECHECK_S)
    assert way.deliveries == [[1, 2]]


def test_cancel_drops_what_is_gathered_and_stops_looking() -> None:
    time, way = FakeTime(), Way(busy=True)
    send = sender(time, way)
    send.add([1])
    send.cancel()
    way.busy = False
    time.advance(10 * RECHECK_S)
    assert way.deliveries == []
    send.add([2])
    assert way.deliveries == [[2]]


def test_nothing_to_add_sends_nothing() -> None:
    time, way = FakeTime(), Way()
    sender(time, way).add([])
    assert way.deliveries == []
