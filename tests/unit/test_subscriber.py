"""The pieces that make history and live entries join up: IDs, Subscriber, Fanout."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

from dashboard.bus.memory import AT_ONCE_AFTER_S, AT_ONCE_MAX_FOLLOWERS, EntryIdClock, MemoryBus
from dashboard.entry import LogEntry, StreamEntry
from dashboard.protocol import entry_id_order
from dashboard.stream import Fanout, Subscriber, Subscription

from ..support import Collector


def stream_entries(*ids: str) -> list[StreamEntry]:
    return [StreamEntry(entry_id, LogEntry(message=entry_id, timestamp=0.0)) for entry_id in ids]




def test_clock_ids_strictly_increase_within_one_millisecond() -> None:
    clock = EntryIdClock()
    ids = [entry_id_order(clock.next_id()) for _ in range(5000)]
    assert all(later > earlier for earlier, later in itertools.pairwise(ids))


def test_subscriber_holds_live_entries_until_history_is_in() -> None:
    collector = Collector()
    subscriber = Subscriber("s", collector)
    subscriber.receive(stream_entries("3-0", "4-0"))  # arrives while history is fetched
    assert collector.entries == []
    subscriber.start(stream_entries("1-0", "2-0", "3-0"))  # history overlaps the held entries
    subscriber.receive(stream_entries("4-0", "5-0"))
    assert collector.ids == ["1-0", "2-0", "3-0", "4-0", "5-0"]


def test_subscriber_survives_a_failing_deliver() -> None:
    def broken(_: list[StreamEntry]) -> None:
        raise RuntimeError("viewer gone")

    subscriber = Subscriber("s", broken)
    subscriber.start([])
    subscriber.receive(stream_entries("1-0"))  # must not raise


def test_fanout_sends_only_to_the_stream_followers_and_forgets_empty_streams() -> None:
    fanout = Fanout()
    got_a, got_b = Collector(), Collector()
    first, second = Subscriber("a", got_a), Subscriber("b", got_b)
    for subscriber in (first, second):
        fanout.add(subscriber)
        subscriber.start([])
    fanout.dispatch("a", stream_entries("1-0"))
    assert (got_a.ids, got_b.ids) == (["1-0"], [])
    fanout.remove(first)
    assert fanout.streams() == ["b"] and fanout.count("a") == 0
    fanout.remove(first)  # twice is harmless


def test_fanout_tells_every_follower_each_change_of_the_bus_state_once() -> None:
    fanout, told = Fanout(), []
    for stream in ("a", "b"):
        fanout.add(Subscriber(stream, Collector(), availability=lambda ok, stream=stream: told.append((stream, ok))))
    fanout.set_available(False)
    fanout.set_available(False)
    late: list[bool] = []
    fanout.add(Subscriber("c", Collector(), availability=late.append))  # joins while the bus is away
    fanout.set_available(True)
    assert sorted(told) == [("a", False), ("a", True), ("b", False), ("b", True)]
    assert late == [False, True]


def test_after_the_bus_lost_its_data_a_follower_takes_entries_with_lower_ids() -> None:
    fanout, collector, notices = Fanout(), Collector(), []
    subscriber = Subscriber("s", collector, notice=notices.append)
    subscriber.start([])
    fanout.add(subscriber)
    fanout.dispatch("s", stream_entries("500-0"))
    fanout.start_over("lost")
    fanout.dispatch("s", stream_entries("7-0", "7-1"))
    fanout.dispatch("s", stream_entries("7-1"))
    assert collector.ids == ["500-0", "7-0", "7-1"] and notices == ["lost"]


async def test_memory_bus_drops_streams_idle_past_retention() -> None:
    now = [0.0]
    bus = MemoryBus(max_length=100, retention_seconds=60, clock=lambda: now[0])
    await bus.publish("idle", [LogEntry(message="old", timestamp=0.0)])
    now[0] = 30.0
    await bus.publish("busy", [LogEntry(message="kept", timestamp=0.0)])
    now[0] = 61.0
    await bus.publish("busy", [LogEntry(message="still writing", timestamp=0.0)])

    idle, busy = Collector(), Collector()
    (await bus.subscribe("idle", idle, history=10)).close()
    (await bus.subscribe("busy", busy, history=10)).close()
    assert idle.entries == []
    assert busy.messages == ["kept", "still writing"]


def test_entries_up_to_the_newest_at_start_are_never_live() -> None:
    delivered = Collector()
    subscriber = Subscriber("s", delivered)
    subscriber.receive(stream_entries("1-0", "2-0", "3-0"))  # published before, handed on late
    subscriber.start([], newest="2-0")  # no history wanted; the stream held up to 2-0
    subscriber.receive(stream_entries("4-0"))
    assert delivered.ids == ["3-0", "4-0"]


async def batches_of(bus: MemoryBus, stream: str) -> tuple[list[list[str]], Subscription]:
    """Follow `stream`: the messages of each batch it hands on, as they come, and the subscription."""
    batches: list[list[str]] = []
    subscription = await bus.subscribe(stream, lambda batch: batches.append([e.entry.message for e in batch]),
                                       history=0)
    return batches, subscription


async def test_memory_bus_hands_a_quiet_write_on_at_once_and_gathers_writes_close_behind_it() -> None:
    now = [100.0]
    bus = MemoryBus(max_length=100, clock=lambda: now[0])
    batches, subscription = await batches_of(bus, "s")
    await bus.publish("s", [LogEntry(message="one", timestamp=0.0)])
    assert batches == [["one"]], "a write after a quiet spell reaches its followers within publish()"
    now[0] += AT_ONCE_AFTER_S / 2
    await bus.publish("s", [LogEntry(message="two", timestamp=0.0)])
    now[0] += AT_ONCE_AFTER_S * 2  # long after the first, but the second is still being gathered
    await bus.publish("s", [LogEntry(message="three", timestamp=0.0)])
    assert batches == [["one"]], "writes close behind another wait for the end of the loop's turn"
    await asyncio.sleep(0)
    assert batches == [["one"], ["two", "three"]]
    now[0] += AT_ONCE_AFTER_S
    await bus.publish("s", [LogEntry(message="four", timestamp=0.0)])
    assert batches == [["one"], ["two", "three"], ["four"]]
    subscription.close()


async def test_memory_bus_gathers_the_writes_queued_behind_a_slow_fan_out() -> None:
    """A fan-out that takes longer than the quiet spell must not make each write behind it look quiet."""
    now = [100.0]
    bus = MemoryBus(max_length=100, clock=lambda: now[0])
    batches: list[list[str]] = []

    def slow_viewer(batch: Sequence[StreamEntry]) -> None:
        batches.append([e.entry.message for e in batch])
        now[0] += AT_ONCE_AFTER_S * 2  # handing on took two quiet spells

    subscription = await bus.subscribe("s", slow_viewer, history=0)
    for number in range(5):  # all in one turn of the loop, as POSTs read together are
        await bus.publish("s", [LogEntry(message=str(number), timestamp=0.0)])
    assert batches == [["0"]]
    await asyncio.sleep(0)
    assert batches == [["0"], ["1", "2", "3", "4"]]
    await bus.publish("s", [LogEntry(message="5", timestamp=0.0)])  # right after the gathered fan-out
    assert len(batches) == 2
    await asyncio.sleep(0)
    assert batches[-1] == ["5"]
    subscription.close()


async def test_memory_bus_answers_first_when_a_quiet_write_has_many_followers() -> None:
    now = [100.0]
    bus = MemoryBus(max_length=100, clock=lambda: now[0])
    viewers = [Collector() for _ in range(AT_ONCE_MAX_FOLLOWERS + 1)]
    subscriptions = [await bus.subscribe("s", viewer, history=0) for viewer in viewers]
    await bus.publish("s", [LogEntry(message="one", timestamp=0.0)])
    assert all(viewer.messages == [] for viewer in viewers), "many followers: the POST is not held for them"
    await asyncio.sleep(0)
    assert all(viewer.messages == ["one"] for viewer in viewers)
    subscriptions[0].close()  # now as many as may be served within the write
    now[0] += AT_ONCE_AFTER_S
    await bus.publish("s", [LogEntry(message="two", timestamp=0.0)])
    assert all(viewer.messages == ["one", "two"] for viewer in viewers[1:])
    for subscription in subscriptions[1:]:
        subscription.close()


async def test_memory_bus_counts_writes_to_streams_nobody_follows_as_keeping_it_busy() -> None:
    now = [100.0]
    bus = MemoryBus(max_length=100, clock=lambda: now[0])
    batches, subscription = await batches_of(bus, "s")
    await bus.publish("other", [LogEntry(message="elsewhere", timestamp=0.0)])
    now[0] += AT_ONCE_AFTER_S / 2
    await bus.publish("s", [LogEntry(message="one", timestamp=0.0)])
    assert batches == []
    await asyncio.sleep(0)
    assert batches == [["one"]]
    subscription.close()
