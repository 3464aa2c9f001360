"""What only the Redis bus must show: few connections, clear failures, and recovery."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import cast

import orjson
import pytest
import redis
from redis.asyncio import Redis

from dashboard.bus.redis_streams import READ_COUNT, RedisBus, stream_key
from dashboard.elements.rows_feed import StreamTag
from dashboard.entry import LogEntry, StreamEntry
from dashboard.pages.page_follow import _OneTurnMerged
from dashboard.protocol import entry_id_order
from dashboard.stream import BusUnavailable
from harness.servers import RedisServer, free_port, running_redis

from ..support import Collector
from .test_bus_contract import entries


async def connected_clients(redis_url: str) -> int:
    admin = Redis.from_url(redis_url)
    try:
        return len(await admin.client_list()) - 1  # not counting this one
    finally:
        await admin.aclose()


async def test_many_viewers_share_one_reader_connection() -> None:
    with running_redis() as redis:  # a private server, so that only this bus is counted
        bus = RedisBus(redis.url, max_length=1000, retention_seconds=600)
        await bus.start()
        streams = [str(uuid.uuid4()) for _ in range(10)]
        collectors = [Collector() for _ in range(100)]
        subscriptions = [await bus.subscribe(streams[i % 10], collector, history=10)
                         for i, collector in enumerate(collectors)]
        for stream in streams:
            await bus.publish(stream, entries("hello"))
        for collector in collectors:
            await collector.wait_for(1)
        assert await connected_clients(redis.url) <= 3  # the reader, plus publish/subscribe traffic
        for subscription in subscriptions:
            subscription.close()
        await bus.close()


async def test_streams_expire_after_retention(redis_url: str) -> None:
    bus = RedisBus(redis_url, max_length=1000, retention_seconds=600)
    await bus.start()
    stream = str(uuid.uuid4())
    await bus.publish(stream, entries("x"))
    admin = Redis.from_url(redis_url)
    assert 590 <= await admin.ttl(stream_key(stream)) <= 600
    await admin.aclose()
    await bus.close()


async def test_concurrent_publishes_share_script_calls_and_each_gets_its_own_ids() -> None:
    with running_redis() as redis:  # a private server, so that only this bus's commands are counted
        bus = RedisBus(redis.url, max_length=10_000, retention_seconds=600)
        await bus.start()
        streams = [str(uuid.uuid4()) for _ in range(2)]
        batches = [[f"{n}-{k}" for k in range(n % 3 + 1)] for n in range(60)]
        replies = await asyncio.gather(*(bus.publish(streams[n % 2], entries(*batch))
                                         for n, batch in enumerate(batches)))
        admin = Redis.from_url(redis.url)
        try:
            for which, stream in enumerate(streams):
                stored = await admin.xrange(stream_key(stream))
                expected = [(entry_id, message) for n, (batch, ids) in enumerate(zip(batches, replies, strict=True))
                            if n % 2 == which for entry_id, message in zip(ids, batch, strict=True)]
                assert [(entry_id.decode(), LogEntry.from_dict(orjson.loads(fields[b"e"])).message)
                        for entry_id, fields in stored] == expected
            script_calls = sum(stats["calls"] for name, stats in (await admin.info("commandstats")).items()
                               if name in ("cmdstat_evalsha", "cmdstat_eval"))
            assert 1 <= script_calls < len(batches)
        finally:
            await admin.aclose()
            await bus.close()


async def test_unreachable_redis_fails_start_clearly() -> None:
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0", max_length=10, retention_seconds=60)
    with pytest.raises(BusUnavailable, match="cannot reach Redis"):
        await bus.start()


async def test_publish_during_outage_is_bus_unavailable_and_reader_recovers() -> None:
    redis = RedisServer()
    try:
        await asyncio.to_thread(redis.start)
        bus = RedisBus(redis.url, max_length=1000, retention_seconds=600)
        await bus.start()
        stream = str(uuid.uuid4())
        collector = Collector()
        subscription = await bus.subscribe(stream, collector, history=0)
        await bus.publish(stream, entries("before"))
        await collector.wait_for(1)

        await asyncio.to_thread(redis.stop)
        with pytest.raises(BusUnavailable):
            await bus.publish(stream, [LogEntry(message="during", timestamp=time.time())])

        await asyncio.to_thread(redis.start)  # same port: the bus must find it again by itself
        deadline = time.monotonic() + 10
        while True:  # the first publishes after a restart may meet a connection that died with the old server
            try:
                await bus.publish(stream, entries("after"))
                break
            except BusUnavailable:
                assert time.monotonic() < deadline, "publishing never worked again after Redis came back"
                await asyncio.sleep(0.2)
        await collector.wait_for(2, timeout=10)
        assert collector.messages == ["before", "after"]
        subscription.close()
        await bus.close()
    finally:
        redis.stop()


async def test_a_url_with_an_empty_password_works_as_it_does_for_redis_py(redis_url: str) -> None:
    bus = RedisBus(redis_url.replace("redis://", "redis://:@"), max_length=100, retention_seconds=600)
    await bus.start()
    try:
        stream = str(uuid.uuid4())
        assert len(await bus.publish(stream, [LogEntry(message="one", timestamp=time.time())])) == 1
    finally:
        await bus.close()


async def test_a_wrong_password_fails_start_without_showing_the_password() -> None:
    with running_redis() as server:
        with redis.Redis.from_url(server.url) as admin:
            admin.config_set("requirepass", "right-one")
        bus = RedisBus(f"redis://:wrong-one@127.0.0.1:{server.port}/0", max_length=100, retention_seconds=600)
        with pytest.raises(BusUnavailable) as refused:
            await bus.start()
        assert "wrong-one" not in str(refused.value) and "***" in str(refused.value)


class _WriteLandsAfterTheBacklog(RedisBus):
    """A Redis bus where another writer's entries land just after a subscriber's backlog is read: at the
    moment a follow (an event stream's Last-Event-ID, a page's resume) finds nothing new yet."""

    def __init__(self, url: str, writer: RedisBus, landing: list[str]) -> None:
        super().__init__(url, max_length=1000, retention_seconds=600)
        self._writer = writer
        self._landing = landing

    async def _range_after(self, stream_id: str, after: str, *, count: int | None) -> list[StreamEntry]:
        backlog = await super()._range_after(stream_id, after, count=count)
        while self._landing:
            await self._writer.publish(stream_id, entries(self._landing.pop(0)))
        return backlog


@pytest.mark.parametrize("backlog", ["empty", "not empty"])
async def test_entries_that_land_just_after_a_follows_backlog_are_delivered(redis_url: str, backlog: str) -> None:
    """The reader starts from the newest entry the backlog saw, not from one read after it: the entries
    between were delivered by neither (`bunnylogs tail --since` lost a batch at the seam, once in CI)."""
    writer = RedisBus(redis_url, max_length=1000, retention_seconds=600)
    await writer.start()
    stream = str(uuid.uuid4())
    ids = await writer.publish(stream, entries("stored 0", "stored 1"))
    after = ids[-1] if backlog == "empty" else ids[0]
    bus = _WriteLandsAfterTheBacklog(redis_url, writer, ["landed just after"])
    await bus.start()
    collector = Collector()
    subscription = await bus.subscribe(stream, collector, history=10, after=after)
    await writer.publish(stream, entries("later"))
    expected = ["landed just after", "later"] if backlog == "empty" else ["stored 1", "landed just after", "later"]
    await collector.wait_for(len(expected))
    await asyncio.sleep(0.2)  # nothing more, nothing twice
    assert collector.messages == expected
    subscription.close()
    await bus.close()
    await writer.close()


async def test_a_page_of_two_streams_gets_a_backlog_in_the_order_redis_took_it(redis_url: str) -> None:
    """After a stall (an outage, a busy loop), one read brings a backlog of one stream and the other's
    newer entries: the page's rows must still come in ID order, not one stream's after the other's."""
    reader = RedisBus(redis_url, max_length=10_000, retention_seconds=600)
    await reader.start()
    streams = [str(uuid.uuid4()), str(uuid.uuid4())]
    delivered: list[tuple[int, str]] = []
    stalled, written = threading.Event(), threading.Event()

    def push(batch: list[StreamEntry], tags: StreamTag) -> None:
        indexes = tags if isinstance(tags, list) else [cast(int, tags)] * len(batch)
        delivered.extend(zip(indexes, (stream_entry.id for stream_entry in batch), strict=True))

    merge = _OneTurnMerged(push, 2)

    def deliver(batch: list[StreamEntry], index: int) -> None:
        merge(batch, index)
        if not stalled.is_set():  # the reader stops here, as in an outage, while the backlog is written
            stalled.set()
            written.wait(20)

    subscriptions = [await reader.subscribe(stream, lambda batch, index=index: deliver(batch, index), history=0)
                     for index, stream in enumerate(streams)]

    async def write_backlog() -> None:
        writer = RedisBus(redis_url, max_length=10_000, retention_seconds=600)
        await writer.start()
        for name in ("a", "b", "a", "b"):  # more of the first than one read brings, around two of the second
            lines = [f"{name}{n}" for n in range(READ_COUNT * 3 // 5 if name == "a" else 1)]
            await writer.publish(streams[0 if name == "a" else 1], entries(*lines))
            await asyncio.sleep(0.002)  # the next batch a millisecond later
        await writer.close()

    thread = threading.Thread(target=lambda: (stalled.wait(20), asyncio.run(write_backlog()), written.set()))
    thread.start()
    await reader.publish(streams[0], entries("first"))
    await asyncio.to_thread(thread.join, 30)
    deadline = time.monotonic() + 10
    while len(delivered) < 1 + 2 * (READ_COUNT * 3 // 5) + 2:
        assert time.monotonic() < deadline, f"{len(delivered)} delivered"
        await asyncio.sleep(0.01)
    ids = [entry_id for _, entry_id in delivered]
    assert ids == sorted(ids, key=entry_id_order), "rows out of the order Redis took them"
    assert [index for index, _ in delivered].count(1) == 2
    for subscription in subscriptions:
        subscription.close()
    await reader.close()
