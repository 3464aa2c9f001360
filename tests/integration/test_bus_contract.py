"""The bus contract, run against both backends: the in-process bus and a real redis-server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest

from dashboard.bus.memory import MemoryBus
from dashboard.bus.redis_streams import RedisBus
from dashboard.entry import LogEntry
from dashboard.protocol import RESUMED_FROM_START_NOTICE
from dashboard.stream import RESUME_CUT_NOTICE, Bus

from ..support import SENTINEL, Collector

MAX_LENGTH = 1000


def entries(*messages: str) -> list[LogEntry]:
    return [LogEntry(message=message, timestamp=time.time()) for message in messages]


def new_stream() -> str:
    return str(uuid.uuid4())


# "redis-py": a URL with one of redis-py's own options, which the bus's lean connections leave to
# redis-py's client (dashboard.bus.redis_channel.supports).
@pytest.fixture(params=["memory", "redis", "redis-py"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "memory":
        backend: Bus = MemoryBus(max_length=MAX_LENGTH)
    else:
        url = request.getfixturevalue("redis_url") + ("?health_check_interval=0" if request.param == "redis-py" else "")
        backend = RedisBus(url, max_length=MAX_LENGTH, retention_seconds=600)
    await backend.start()
    yield backend
    await backend.close()


async def test_publish_returns_one_increasing_id_per_entry(bus: Bus) -> None:
    stream = new_stream()
    first = await bus.publish(stream, entries("a", "b", "c"))
    second = await bus.publish(stream, entries("d"))
    ids = first + second
    assert len(ids) == 4 and ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    assert len(set(ids)) == 4


async def test_history_then_live_in_order(bus: Bus) -> None:
    stream = new_stream()
    await bus.publish(stream, entries("one", "two"))
    collector = Collector()
    subscription = await bus.subscribe(stream, collector, history=500)
    assert collector.messages == ["one", "two"]
    await bus.publish(stream, entries("three"))
    await bus.publish(stream, entries("four", "five"))
    await collector.wait_for(5)
    assert collector.messages == ["one", "two", "three", "four", "five"]
    subscription.close()


async def test_history_is_the_latest_n(bus: Bus) -> None:
    stream = new_stream()
    await bus.publish(stream, entries(*[f"m{i}" for i in range(50)]))
    collector = Collector()
    (await bus.subscribe(stream, collector, history=10)).close()
    assert collector.messages == [f"m{i}" for i in range(40, 50)]


async def test_a_subscription_says_whether_its_history_is_the_whole_stream(bus: Bus) -> None:
    stream = new_stream()
    await bus.publish(stream, entries(*[f"m{i}" for i in range(10)]))
    whole = {}
    for history in (11, 10, 3):
        subscription = await bus.subscribe(stream, Collector(), history=history)
        whole[history] = subscription.history_whole
        subscription.close()
    assert whole == {11: True, 10: False, 3: False}  # 10 of 10: not known to be all, so not said
    big = new_stream()  # cut to the history's byte bound: not whole, however many were asked for
    await bus.publish(big, [LogEntry(message="x" * 60_000, timestamp=time.time()) for _ in range(20)])
    subscription = await bus.subscribe(big, Collector(), history=100)
    assert not subscription.history_whole
    subscription.close()
    resumed = await bus.subscribe(stream, Collector(), history=100, after="0-1")
    assert not resumed.history_whole  # a resume is not a history
    resumed.close()


async def test_zero_history_gets_only_new_entries(bus: Bus) -> None:
    stream = new_stream()
    await bus.publish(stream, entries("old"))
    collector = Collector()
    subscription = await bus.subscribe(stream, collector, history=0)
    await bus.publish(stream, entries("new"))
    await bus.publish(stream, entries(SENTINEL))
    assert await collector.wait_for_sentinel() == ["new"]
    subscription.close()


async def test_streams_are_isolated(bus: Bus) -> None:
    mine, other = new_stream(), new_stream()
    collector, theirs = Collector(), Collector()
    subscriptions = [await bus.subscribe(mine, collector, history=500),
                     await bus.subscribe(other, theirs, history=500)]  # so that both streams are read
    await bus.publish(other, entries("not for me"))
    await bus.publish(mine, entries("for me"))
    for stream in (other, mine):
        await bus.publish(stream, entries(SENTINEL))
    assert await collector.wait_for_sentinel() == ["for me"]
    assert await theirs.wait_for_sentinel() == ["not for me"]
    for subscription in subscriptions:
        subscription.close()


async def test_every_subscriber_gets_every_entry_once(bus: Bus) -> None:
    stream = new_stream()
    collectors = [Collector() for _ in range(5)]
    subscriptions = [await bus.subscribe(stream, collector, history=500) for collector in collectors]
    for i in range(20):
        await bus.publish(stream, entries(f"e{i}"))
    await bus.publish(stream, entries(SENTINEL))
    for collector in collectors:
        assert await collector.wait_for_sentinel() == [f"e{i}" for i in range(20)]
    for subscription in subscriptions:
        subscription.close()


async def test_closed_subscription_gets_nothing_more(bus: Bus) -> None:
    stream = new_stream()
    closed, open_ = Collector(), Collector()
    subscription = await bus.subscribe(stream, closed, history=0)
    keeper = await bus.subscribe(stream, open_, history=0)
    subscription.close()
    subscription.close()  # twice is harmless
    await bus.publish(stream, entries("after close"))
    await open_.wait_for(1)
    assert closed.entries == []
    keeper.close()
    assert bus.viewer_count(stream) == 0


async def test_no_gap_and_no_duplicate_when_subscribing_mid_flow(bus: Bus) -> None:
    stream = new_stream()
    published: list[str] = []
    stop = asyncio.Event()

    async def publish_continuously() -> None:
        n = 0
        while not stop.is_set():
            published.extend(await bus.publish(stream, entries(*[f"p{n + k}" for k in range(3)])))
            n += 3
            await asyncio.sleep(0.001)

    publisher = asyncio.create_task(publish_continuously())
    collectors: list[Collector] = []
    subscriptions = []
    for _ in range(6):
        await asyncio.sleep(0.03)
        collector = Collector()
        collectors.append(collector)
        subscriptions.append(await bus.subscribe(stream, collector, history=25))
    await asyncio.sleep(0.1)
    stop.set()
    await publisher
    for collector in collectors:
        await collector.wait_for(25)
        deadline = time.monotonic() + 5
        while collector.ids[-1] != published[-1] and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        start = published.index(collector.ids[0])
        assert collector.ids == published[start:], "entries were skipped, repeated or reordered"
        assert len(collector.ids) >= 25
    for subscription in subscriptions:
        subscription.close()


async def test_entries_round_trip_intact(bus: Bus) -> None:
    stream = new_stream()
    sent = LogEntry(message="naïve ✓ \"quoted\"\n\ttraceback line", timestamp=1_795_600_800.123, level="TRACE",
                    program="wörker-1", fields_json=orjson.dumps({"user": {"id": 7, "tags": ["a", None]}, "ok": True}))
    await bus.publish(stream, [sent])
    collector = Collector()
    (await bus.subscribe(stream, collector, history=1)).close()
    assert collector.entries[0].entry == sent
    assert collector.entries[0].to_wire()["id"] == collector.entries[0].id


async def test_stream_length_is_capped(bus: Bus) -> None:
    stream = new_stream()
    for start in range(0, 5 * MAX_LENGTH, 500):
        await bus.publish(stream, entries(*[f"m{i}" for i in range(start, start + 500)]))
    collector = Collector()
    (await bus.subscribe(stream, collector, history=10_000)).close()
    # Redis trims whole nodes (MAXLEN ~), so it may keep a little more than asked.
    assert MAX_LENGTH <= len(collector.entries) <= MAX_LENGTH + 200
    assert collector.messages[-1] == f"m{5 * MAX_LENGTH - 1}"


async def test_resuming_after_an_id_gets_every_later_entry_once(bus: Bus) -> None:
    stream = new_stream()
    ids = await bus.publish(stream, entries(*[f"m{i}" for i in range(10)]))
    collector = Collector()
    subscription = await bus.subscribe(stream, collector, history=2, after=ids[3])
    assert collector.messages == [f"m{i}" for i in range(4, 10)], "history is ignored when resuming"
    await bus.publish(stream, entries("live"))
    await bus.publish(stream, entries(SENTINEL))
    assert await collector.wait_for_sentinel() == [*[f"m{i}" for i in range(4, 10)], "live"]
    subscription.close()


async def test_a_bounded_resume_gets_the_newest_entries_after_the_id_then_live_ones(bus: Bus) -> None:
    stream = new_stream()
    ids = await bus.publish(stream, entries(*[f"m{i}" for i in range(20)]))
    collector = Collector()
    told: list[str] = []
    subscription = await bus.subscribe(stream, collector, history=500, after=ids[3], after_limit=5,
                                       notice=told.append)
    assert collector.messages == [f"m{i}" for i in range(15, 20)]
    assert told == [RESUME_CUT_NOTICE]  # the follower is told that m4 to m14 were left out
    await bus.publish(stream, entries("live"))
    await bus.publish(stream, entries(SENTINEL))
    assert await collector.wait_for_sentinel() == [*[f"m{i}" for i in range(15, 20)], "live"]
    subscription.close()
    # A bounded resume that leaves nothing out says nothing.
    whole: list[str] = []
    subscription = await bus.subscribe(stream, Collector(), history=500, after=ids[14], after_limit=50,
                                       notice=whole.append)
    assert whole == []
    subscription.close()
    # Nor does one that is no resume (a page opening after a linked line's context), as its caller says.
    opening: list[str] = []
    subscription = await bus.subscribe(stream, Collector(), history=500, after=ids[3], after_limit=5,
                                       notice=opening.append, tell_cut=False)
    assert opening == []
    subscription.close()


async def test_resuming_after_the_newest_id_gets_only_new_entries(bus: Bus) -> None:
    stream = new_stream()
    ids = await bus.publish(stream, entries("seen"))
    others = Collector()
    keeper = await bus.subscribe(stream, others, history=0)  # the stream is already being read
    collector = Collector()
    subscription = await bus.subscribe(stream, collector, history=500, after=ids[-1])
    await bus.publish(stream, entries("new"))
    await bus.publish(stream, entries(SENTINEL))
    assert await collector.wait_for_sentinel() == ["new"]
    subscription.close()
    keeper.close()


async def test_read_pages_forward_from_an_id(bus: Bus) -> None:
    stream = new_stream()
    ids = await bus.publish(stream, entries(*[f"m{i}" for i in range(25)]))
    first = await bus.read(stream, after="0", limit=10)
    second = await bus.read(stream, after=first[-1].id, limit=10)
    third = await bus.read(stream, after=second[-1].id, limit=10)
    assert [e.id for e in first + second + third] == ids
    assert await bus.read(stream, after=ids[-1], limit=10) == []


async def test_read_without_after_gives_the_newest(bus: Bus) -> None:
    stream = new_stream()
    await bus.publish(stream, entries(*[f"m{i}" for i in range(25)]))
    newest = await bus.read(stream, after=None, limit=5)
    assert [e.entry.message for e in newest] == [f"m{i}" for i in range(20, 25)]
    assert await bus.read(new_stream(), after=None, limit=5) == []


@pytest.mark.parametrize("history", [0, 500])
async def test_a_resume_point_beyond_the_stream_resumes_from_its_start_and_leaves_other_readers_alone(
        bus: Bus, history: int) -> None:
    """An ID newer than the stream's newest was handed out before the stream lost its entries (a restart on
    the memory bus with the clock behind): the follower got nothing, ever, and was not told."""
    stream = new_stream()
    await bus.publish(stream, entries("before"))
    from_the_future, told = Collector(), []
    first = await bus.subscribe(stream, from_the_future, history=500, after="99999999999999-0", notice=told.append)
    assert from_the_future.messages == ["before"]
    assert told == [RESUMED_FROM_START_NOTICE]
    collector = Collector()
    second = await bus.subscribe(stream, collector, history=history)
    await bus.publish(stream, entries("live"))
    await collector.wait_for(2 if history else 1)
    assert collector.messages == (["before", "live"] if history else ["live"])
    # A sentinel on another stream, read by the same reader, shows the first got its chance.
    sentinel_stream, sentinel = new_stream(), Collector()
    third = await bus.subscribe(sentinel_stream, sentinel, history=0)
    await bus.publish(stream, entries("later"))
    await bus.publish(sentinel_stream, entries("sentinel"))
    await sentinel.wait_for(1)
    await collector.wait_for(3 if history else 2)
    await from_the_future.wait_for(3)
    assert from_the_future.messages == ["before", "live", "later"]
    for subscription in (first, second, third):
        subscription.close()


@pytest.mark.parametrize("after", [f"{2**64 - 1}-{2**64 - 1}", f"{2**64 - 1}", f"{2**64 - 2}-{2**64 - 1}"])
async def test_the_largest_entry_ids_are_read_points_with_nothing_after(bus: Bus, after: str) -> None:
    stream = new_stream()
    await bus.publish(stream, entries("kept"))
    assert await bus.read(stream, after=after, limit=10) == []
    collector = Collector()
    subscription = await bus.subscribe(stream, collector, history=10, after=after)  # beyond the newest
    assert collector.messages == ["kept"]
    subscription.close()


async def test_a_resume_point_on_an_empty_stream_takes_every_new_entry_and_says_so(bus: Bus) -> None:
    """A server restarted on the memory bus holds no entry yet: the new ones may have lower IDs than the
    follower's last (the clock went back), which the follower must be told to take."""
    stream = new_stream()
    collector, told = Collector(), []
    subscription = await bus.subscribe(stream, collector, history=10, after="99999999999999-0", notice=told.append)
    await bus.publish(stream, entries("new"))
    await collector.wait_for(1)
    assert collector.messages == ["new"] and told == [RESUMED_FROM_START_NOTICE]
    subscription.close()


@pytest.mark.parametrize("after", ["0", "0-0"])
async def test_an_empty_stream_followed_from_its_start_tells_nothing(bus: Bus, after: str) -> None:
    """tail starts after 0 on a stream that has no line yet: it was told that the server lost its lines."""
    stream = new_stream()
    collector, told = Collector(), []
    subscription = await bus.subscribe(stream, collector, history=10, after=after, notice=told.append)
    await bus.publish(stream, entries("first"))
    await collector.wait_for(1)
    assert collector.messages == ["first"] and told == []
    subscription.close()


async def test_a_resume_point_the_follower_did_not_receive_filters_only(bus: Bus) -> None:
    """A merged page resumes a stream it holds no row of from just before its newest row of any stream:
    beyond that stream's newest, its old entries came as new, with a word of lost lines."""
    stream = new_stream()
    await bus.publish(stream, entries("old"))
    collector, told = Collector(), []
    subscription = await bus.subscribe(stream, collector, history=10, after="99999999999999-0", notice=told.append,
                                       after_received=False)
    assert collector.messages == [] and told == []
    subscription.close()


async def test_a_repeated_batch_key_stores_once_and_gets_the_first_ids(bus: Bus) -> None:
    stream = new_stream()
    first = await bus.publish(stream, entries("a", "b"), batch_key="batch-1")
    again = await bus.publish(stream, entries("a", "b"), batch_key="batch-1")
    other = await bus.publish(stream, entries("c"), batch_key="batch-2")
    unnamed = await bus.publish(stream, entries("c"))
    assert again == first and len(set(first + other + unnamed)) == 4
    assert [e.entry.message for e in await bus.read(stream, after=None, limit=10)] == ["a", "b", "c", "c"]


async def test_a_batch_key_is_per_stream(bus: Bus) -> None:
    one, two = new_stream(), new_stream()
    await bus.publish(one, entries("a"), batch_key="same")
    await bus.publish(two, entries("b"), batch_key="same")
    assert [e.entry.message for e in await bus.read(two, after=None, limit=10)] == ["b"]


async def test_repeats_of_one_batch_key_in_one_moment_store_once(bus: Bus) -> None:
    """Concurrent tries of one batch (a retry while the first try is still being written) store it once."""
    stream = new_stream()
    results = await asyncio.gather(*(bus.publish(stream, entries("x", "y"), batch_key="k") for _ in range(5)))
    assert all(ids == results[0] for ids in results)
    assert [e.entry.message for e in await bus.read(stream, after=None, limit=10)] == ["x", "y"]


async def test_read_before_pages_back_from_an_id(bus: Bus) -> None:
    stream = new_stream()
    ids = await bus.publish(stream, entries(*[f"m{i}" for i in range(10)]))
    page = await bus.read_before(stream, before=ids[7], limit=3)
    assert [e.entry.message for e in page] == ["m4", "m5", "m6"]
    earlier = await bus.read_before(stream, before=page[0].id, limit=10)
    assert [e.entry.message for e in earlier] == ["m0", "m1", "m2", "m3"]
    assert await bus.read_before(stream, before=ids[0], limit=10) == []
    assert await bus.read_before(stream, before="0-0", limit=10) == []
    assert await bus.read_before(new_stream(), before=ids[5], limit=10) == []


async def test_read_before_an_id_beyond_the_stream_gives_the_newest(bus: Bus) -> None:
    stream = new_stream()
    await bus.publish(stream, entries("a", "b", "c"))
    assert [e.entry.message for e in await bus.read_before(stream, before="99999999999999-0", limit=2)] == ["b", "c"]


async def test_kept_is_how_many_entries_the_stream_keeps_and_its_newest(bus: Bus) -> None:
    stream = new_stream()
    assert await bus.kept(stream) == (0, None), "a stream the bus does not know keeps nothing"
    ids = await bus.publish(stream, entries("a", "b", "c"))
    await bus.publish(new_stream(), entries("elsewhere"))
    assert await bus.kept(stream) == (3, ids[-1])
    for start in range(0, 3 * MAX_LENGTH, 500):
        ids = await bus.publish(stream, entries(*[f"m{i}" for i in range(start, start + 500)]))
    kept = await bus.kept(stream)
    assert MAX_LENGTH <= kept.length <= MAX_LENGTH + 200, "trimmed as the stream is (Redis trims whole nodes)"
    assert kept.length == len(await bus.read(stream, after="0", limit=10 * MAX_LENGTH))
    assert kept.newest == ids[-1]


async def test_read_and_read_before_tile_a_stream_from_either_end(bus: Bus) -> None:
    stream = new_stream()
    ids = await bus.publish(stream, entries(*[f"m{i}" for i in range(MAX_LENGTH)]))
    forward: list[str] = []
    after = "0"
    while page := await bus.read(stream, after=after, limit=37):
        forward += [e.id for e in page]
        after = page[-1].id
    backward: list[str] = []
    page = await bus.read(stream, after=None, limit=37)
    while page:
        backward = [e.id for e in page] + backward
        page = await bus.read_before(stream, before=page[0].id, limit=37)
    assert forward == backward == ids
