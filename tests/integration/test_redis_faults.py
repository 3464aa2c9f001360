"""The Redis bus through Redis's faults: followers are told while it is away and resume where they were;
a restart that lost the data is said, and new entries still arrive."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from redis.asyncio import Redis

from dashboard.bus.redis_keys import stream_key
from dashboard.bus.redis_streams import RedisBus
from harness.servers import RedisServer, running_redis

from ..support import Collector
from .test_bus_contract import entries

LOST = "Redis restarted without its data"


def new_bus(redis: RedisServer) -> RedisBus:
    return RedisBus(redis.url, max_length=1000, retention_seconds=600)


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.02)


async def restart(redis: RedisServer) -> None:
    await asyncio.to_thread(redis.stop)
    await asyncio.to_thread(redis.start)


async def test_followers_are_told_while_redis_is_away_and_resume_from_where_they_were(tmp_path: Path) -> None:
    with running_redis(data_dir=tmp_path) as redis:
        bus, other_process = new_bus(redis), new_bus(redis)
        await bus.start()
        await other_process.start()
        stream, collector, states = str(uuid.uuid4()), Collector(), []
        subscription = await bus.subscribe(stream, collector, history=10, availability=states.append)
        await bus.publish(stream, entries("before 0", "before 1"))
        await collector.wait_for(2)
        await asyncio.to_thread(redis.stop)
        await eventually(lambda: states == [False], "telling the follower that the bus is away")
        assert not bus.available
        await asyncio.to_thread(redis.start)  # the same data: the append-only file kept it
        # Written by another process, maybe before this one's reader is back: it reads on from its cursor.
        await other_process.publish(stream, entries("after 0"))
        await eventually(lambda: states == [False, True], "telling the follower that the bus is back")
        await bus.publish(stream, entries("after 1"))
        await collector.wait_for(4)
        await asyncio.sleep(0.2)  # time for a duplicate to show, if there were one
        assert collector.messages == ["before 0", "before 1", "after 0", "after 1"]
        assert await bus.history_lost(stream) is None
        subscription.close()
        await bus.close()
        await other_process.close()


async def test_a_restart_that_lost_the_data_is_told_and_new_entries_still_arrive() -> None:
    with running_redis() as redis:  # no persistence: a restart empties it
        bus = new_bus(redis)
        await bus.start()
        stream, unfollowed = str(uuid.uuid4()), str(uuid.uuid4())
        collector, notices = Collector(), []
        subscription = await bus.subscribe(stream, collector, history=10, notice=notices.append)
        await bus.publish(stream, entries("before"))
        await bus.publish(unfollowed, entries("unseen"))
        await collector.wait_for(1)
        # An entry with an ID far in the future: the reader's cursor and the follower's last ID lie
        # past every ID the emptied Redis will give, as after a clock that went back.
        admin = Redis.from_url(redis.url)
        await admin.xadd(stream_key(stream), {b"e": orjson.dumps(entries("from the future")[0].to_dict())},
                         id="99999999999999-0")
        await admin.aclose()
        await collector.wait_for(2)
        await restart(redis)
        await eventually(lambda: len(notices) == 1, "telling the follower that the entries were lost")
        assert notices[0].startswith(LOST)
        await bus.publish(stream, entries("after"))
        await collector.wait_for(3)
        assert collector.messages == ["before", "from the future", "after"]
        assert (await bus.history_lost(stream) or "").startswith(LOST)
        assert await bus.history_lost(unfollowed) is None, "nobody saw it lose anything"
        assert await bus.ready() is None
        # A process started after the restart has no memory of the old data, but Redis has the mark.
        later = new_bus(redis)
        await later.start()
        assert (await later.history_lost(stream) or "").startswith(LOST)
        await later.close()
        subscription.close()
        await bus.close()


async def test_readiness_finds_a_lost_epoch_too_and_the_followers_are_told_once() -> None:
    with running_redis() as redis:
        bus = new_bus(redis)
        await bus.start()
        stream, notices = str(uuid.uuid4()), []
        subscription = await bus.subscribe(stream, Collector(), history=10, notice=notices.append)
        admin = Redis.from_url(redis.url)
        await admin.flushall()  # what a restart without persistence leaves, without dropping a connection
        await admin.aclose()
        results = await asyncio.gather(bus.ready(), bus.ready())
        assert results == [None, None]
        await asyncio.sleep(1.5)  # the reader's next read sees the new epoch as its own
        assert len(notices) == 1 and notices[0].startswith(LOST)
        subscription.close()
        await bus.close()


@dataclass
class Followed:
    """A bus on its own Redis, an admin client of that Redis, and one follower of a new stream."""

    bus: RedisBus
    admin: Redis
    stream: str
    collector: Collector
    told: list[bool]  # what the follower was told of the bus's availability


@contextlib.asynccontextmanager
async def followed_stream() -> AsyncIterator[Followed]:
    with running_redis() as redis:
        bus = new_bus(redis)
        await bus.start()
        admin = Redis.from_url(redis.url)
        followed = Followed(bus, admin, str(uuid.uuid4()), Collector(), [])
        try:
            subscription = await bus.subscribe(followed.stream, followed.collector, history=0,
                                               availability=followed.told.append)
            yield followed
            subscription.close()
        finally:
            await admin.aclose()
            await bus.close()


async def kill_every_connection(admin: Redis) -> None:
    await admin.client_kill_filter(_type="normal", skipme=True)  # the reader's and the appends' too


async def test_dropped_connections_and_flushed_scripts_go_unnoticed_by_followers() -> None:
    async with followed_stream() as followed:
        for round_number in range(5):
            await followed.admin.script_flush()  # the next append meets NOSCRIPT and sends the script itself
            await followed.bus.publish(followed.stream, entries(f"after flush {round_number}"))
            await followed.collector.wait_for(2 * round_number + 1)
            await kill_every_connection(followed.admin)
            await asyncio.sleep(0.05)
            await followed.bus.publish(followed.stream, entries(f"after kill {round_number}"))
            await followed.collector.wait_for(2 * round_number + 2)
        assert followed.collector.messages == [f"after {what} {n}" for n in range(5) for what in ("flush", "kill")]
        assert followed.told == [], "a dropped connection that the next read replaced told the followers nothing"


async def test_a_storm_of_dropped_connections_on_a_quiet_stream_goes_unnoticed_too() -> None:
    async with followed_stream() as followed:
        for _ in range(15):  # each lands while the reader's retried XREAD blocks, 0.2 s apart
            await kill_every_connection(followed.admin)
            await asyncio.sleep(0.2)
        await followed.bus.publish(followed.stream, entries("after the storm"))
        await followed.collector.wait_for(1)
        assert followed.told == [], "the reader's connection was replaced each time, and Redis was up all along"
