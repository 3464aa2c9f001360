"""The memory bus stays within its byte and stream budgets, and tells the followers of what it drops."""

from __future__ import annotations

import asyncio

from dashboard.bus.memory import EVICTED_NOTICE, MemoryBus
from dashboard.entry import LogEntry
from tests.support import Collector


def entry(message: str) -> LogEntry:
    return LogEntry(message=message, timestamp=0.0)


def size_of(*messages: str) -> int:
    return sum(entry(message).memory_size() for message in messages)


async def kept(bus: MemoryBus, stream: str) -> list[str]:
    collector = Collector()
    (await bus.subscribe(stream, collector, history=10_000)).close()
    return collector.messages


async def test_streams_written_least_recently_go_first_and_their_followers_are_told() -> None:
    line = "x" * 1000
    bus = MemoryBus(max_length=100, budget_bytes=int(size_of(line) * 3.5))
    notices: list[str] = []
    follower = await bus.subscribe("a", Collector(), history=0, notice=notices.append)
    await bus.publish("a", [entry(line)])
    await bus.publish("b", [entry(line)])
    await bus.publish("a", [entry(line)])  # a is now written more recently than b
    assert bus.stats() == {"streams": 2, "stream_bytes": size_of(line, line, line), "streams_evicted": 0}
    await bus.publish("c", [entry(line)])
    assert (await kept(bus, "b")) == [] and len(await kept(bus, "a")) == 2 and len(await kept(bus, "c")) == 1
    assert notices == [] and bus.stats()["streams_evicted"] == 1
    await bus.publish("d", [entry(line)])  # now a is the least recently written
    assert (await kept(bus, "a")) == [] and notices == [EVICTED_NOTICE]
    assert bus.stats() == {"streams": 2, "stream_bytes": size_of(line, line), "streams_evicted": 2}
    await bus.publish("a", [entry("back")])  # the follower stays subscribed to new lines
    await asyncio.sleep(0)
    follower.close()


async def test_the_stream_count_is_capped_too() -> None:
    bus = MemoryBus(max_length=100, max_streams=3)
    for name in "abcde":
        await bus.publish(name, [entry(name)])
    assert bus.stats()["streams"] == 3 and bus.stats()["streams_evicted"] == 2
    assert [await kept(bus, name) for name in "abcde"] == [[], [], ["c"], ["d"], ["e"]]


async def test_one_stream_over_the_budget_keeps_its_newest_entries() -> None:
    bus = MemoryBus(max_length=1000, budget_bytes=size_of(*["y" * 500] * 3))
    await bus.publish("only", [entry("y" * 500 + str(n)) for n in range(10)])
    assert [message[-1] for message in await kept(bus, "only")] == ["8", "9"]
    assert bus.stats()["stream_bytes"] <= size_of(*["y" * 500] * 3)


async def test_bytes_follow_entries_dropped_by_the_length_cap_and_by_retention() -> None:
    now = [0.0]
    bus = MemoryBus(max_length=2, retention_seconds=60, clock=lambda: now[0])
    await bus.publish("s", [entry("one"), entry("two"), entry("three")])
    assert bus.stats()["stream_bytes"] == size_of("two", "three")
    now[0] = 61.0
    await bus.publish("t", [entry("later")])
    assert bus.stats() == {"streams": 1, "stream_bytes": size_of("later"), "streams_evicted": 0}


def test_an_entry_with_fields_counts_them() -> None:
    bare = LogEntry(message="m", timestamp=0.0)
    with_fields = LogEntry(message="m", timestamp=0.0, fields={"payload": "z" * 10_000})
    assert with_fields.memory_size() > bare.memory_size() + 10_000


def test_the_size_estimate_is_not_far_below_what_fields_really_take() -> None:
    """Shapes an attacker would pick: many empty lists, many numbers, many short strings."""
    import tracemalloc

    import orjson

    for shape in ({"a": [[] for _ in range(50_000)]}, {"n": list(range(50_000))},
                  {f"k{i}": "v" * 20 for i in range(5_000)}, {"a": [{"x": 1.5, "y": "abc"} for _ in range(5_000)]}):
        raw = orjson.dumps(shape)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        fields = orjson.loads(raw)
        taken = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert LogEntry(message="m", timestamp=0.0, fields=fields).memory_size() >= taken * 0.8, shape.keys()
