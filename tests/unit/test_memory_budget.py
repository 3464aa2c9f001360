"""The memory bus stays within its byte and stream budgets, fairly, and tells the followers of what it drops."""

from __future__ import annotations

import gc
import tracemalloc

import orjson
from hypothesis import given
from hypothesis import strategies as st

from dashboard.bus.memory import EVICTED_NOTICE, MemoryBus, fair_share
from dashboard.entry import LogEntry
from dashboard.parsing import EntryDefaults, build_entry
from tests.support import Collector

DEFAULTS = EntryDefaults(level="INFO", program="api", received_at=0.0)


def entry(message: str) -> LogEntry:
    return LogEntry(message=message, timestamp=0.0)


def size_of(*messages: str) -> int:
    return sum(entry(message).memory_size() for message in messages)


async def kept(bus: MemoryBus, stream: str) -> list[str]:
    collector = Collector()
    (await bus.subscribe(stream, collector, history=10_000)).close()
    return collector.messages


async def test_past_the_budget_the_largest_streams_lose_their_oldest_lines_and_small_ones_keep_theirs() -> None:
    """One sender filling many streams dropped the least recently written ones whole: everyone else's."""
    line = "x" * 1000
    bus = MemoryBus(max_length=1000, budget_bytes=size_of(*[line] * 40))
    notices: dict[str, list[str]] = {"small": [], "flood-0": []}
    followers = [await bus.subscribe(name, Collector(), history=0, notice=told.append)
                 for name, told in notices.items()]
    await bus.publish("small", [entry("s1"), entry("s2")])
    for round_ in range(20):
        for flood in range(4):
            await bus.publish(f"flood-{flood}", [entry(f"{line}{round_}")])
    assert await kept(bus, "small") == ["s1", "s2"] and notices["small"] == []
    flood_sizes = [len(await kept(bus, f"flood-{flood}")) for flood in range(4)]
    assert max(flood_sizes) - min(flood_sizes) <= 1 and sum(flood_sizes) < 40  # each down to the same share
    assert [message[-2:] for message in await kept(bus, "flood-0")][-1] == "19"  # the newest kept
    assert notices["flood-0"] and notices["flood-0"][0] == EVICTED_NOTICE
    stats = bus.stats()
    assert stats["stream_bytes"] <= size_of(*[line] * 40) and stats["streams"] == 5
    assert stats["streams_trimmed"] >= 4 and stats["streams_evicted"] == 0
    for follower in followers:
        follower.close()


async def test_a_stream_trimmed_to_nothing_is_dropped_and_its_followers_are_told() -> None:
    big = "z" * 5000
    bus = MemoryBus(max_length=1000, budget_bytes=size_of(big, big, "small"))
    told: list[str] = []
    follower = await bus.subscribe("one-big-line", Collector(), history=0, notice=told.append)
    await bus.publish("one-big-line", [entry(big)])
    await bus.publish("small", [entry("small")])
    await bus.publish("another", [entry(big), entry(big)])  # the share is below one line of either big stream
    assert await kept(bus, "one-big-line") == [] and told == [EVICTED_NOTICE]
    assert await kept(bus, "small") == ["small"] and await kept(bus, "another") == [big]  # its newest stays
    assert bus.stats()["streams_evicted"] == 1
    follower.close()


@given(sizes=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=50), data=st.data())
def test_the_fair_share_takes_enough_and_no_more_than_it_must(sizes: list[int], data: st.DataObject) -> None:
    excess = data.draw(st.integers(min_value=1, max_value=max(1, sum(sizes))))
    share = fair_share(sizes, excess)

    def taken(cap: int) -> int:
        return sum(max(0, size - cap) for size in sizes)

    assert share >= 0
    assert taken(share) >= excess or share == 0  # nothing more can be taken than everything
    assert taken(share + 1) < excess  # a larger share would not take enough


def test_the_fair_share_in_numbers() -> None:
    assert fair_share([10, 5, 1], 4) == 6  # only the largest is cut
    assert fair_share([10, 10, 1], 5) == 7  # both large ones, to the same size
    assert fair_share([3, 3], 0) == 3 and fair_share([3, 3], 100) == 0


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
    assert bus.stats() == {"streams": 1, "stream_bytes": size_of("later"), "streams_evicted": 0, "streams_trimmed": 0}


def test_an_entry_with_fields_counts_them() -> None:
    bare = LogEntry(message="m", timestamp=0.0)
    with_fields = LogEntry(message="m", timestamp=0.0, fields_json=orjson.dumps({"payload": "z" * 10_000}))
    assert with_fields.memory_size() > bare.memory_size() + 10_000


# Shapes an attacker would pick: many empty lists, many numbers, many short strings.
COSTLY_FIELDS = [{"a": [[] for _ in range(50_000)]}, {"n": list(range(50_000))},
                 {f"k{i}": "v" * 20 for i in range(5_000)}, {"a": [{"x": 1.5, "y": "abc"} for _ in range(5_000)]}]


def test_the_size_estimate_is_not_far_below_what_a_parsed_entry_really_keeps() -> None:
    for fields in COSTLY_FIELDS:
        raw = orjson.dumps({"message": "m", "fields": fields})
        tracemalloc.start()
        parsed = build_entry(orjson.loads(raw), DEFAULTS)
        estimate = parsed.memory_size()
        holding = tracemalloc.get_traced_memory()[0]
        del parsed  # what that frees is what the entry held (orjson keeps a cache of keys beside it)
        taken = holding - tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert estimate >= taken * 0.8, fields.keys()


def test_a_kept_entry_gives_the_garbage_collector_nothing_to_walk() -> None:
    """Its fields are text: 50,000 empty lists kept as objects were walked by every collection for as
    long as the bus kept them (collections of 200 ms under a few such posts a second)."""
    for fields in COSTLY_FIELDS:
        raw = orjson.dumps({"message": "m", "fields": fields})
        gc.collect()
        tracked_before = len(gc.get_objects())
        kept = [build_entry(orjson.loads(raw), DEFAULTS) for _ in range(3)]
        gc.collect()
        grown = len(gc.get_objects()) - tracked_before
        assert grown < 100, (fields.keys(), grown)
        assert [entry.fields() for entry in kept] == [fields] * 3


async def test_kept_entries_give_the_garbage_collector_nothing_to_walk() -> None:
    """Kept as two named tuples each, 3 million entries made every full collection take 1 s."""
    bus = MemoryBus(max_length=20_000)
    raw = orjson.dumps({"message": "m", "program": "api", "fields": {"user": {"id": 7}}})
    gc.collect()
    tracked_before = len(gc.get_objects())
    await bus.publish("s", [build_entry(orjson.loads(raw), DEFAULTS) for _ in range(10_000)])
    gc.collect()
    grown = len(gc.get_objects()) - tracked_before
    assert grown < 100, grown
    [first] = await bus.read("s", after=None, limit=1)
    assert first.entry == build_entry(orjson.loads(raw), DEFAULTS) and first.entry.fields() == {"user": {"id": 7}}
