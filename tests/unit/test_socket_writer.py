"""When a row message may skip engine.io's queue: only while its writer waits with nothing queued."""

from __future__ import annotations

import asyncio

from dashboard.elements.socket_writer import idle_reader


async def test_a_reader_waiting_on_an_empty_queue_is_idle() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    assert not idle_reader(queue)  # nobody reads it yet
    reader = asyncio.ensure_future(asyncio.wait_for(queue.get(), 10))  # as engine.io's writer waits
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert idle_reader(queue)
    queue.put_nowait("message")
    # The reader has been handed the message but has not run yet: it may still be on its way out.
    assert not idle_reader(queue)
    assert await reader == "message"
    assert not idle_reader(queue)  # and it has not come back to wait


async def test_a_queue_holding_messages_is_not_idle_even_with_a_reader_waiting() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    readers = [asyncio.ensure_future(queue.get()) for _ in range(2)]
    await asyncio.sleep(0)
    queue.put_nowait("first")
    queue.put_nowait("second")
    queue.put_nowait("third")  # two getters were woken; one message stays queued
    assert not idle_reader(queue)
    assert sorted(await asyncio.gather(*readers)) == ["first", "second"]
    assert queue.qsize() == 1 and not idle_reader(queue)
