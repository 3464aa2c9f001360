"""Coalescer: a quiet source is not delayed; a busy one makes one delivery per interval, in order."""

from __future__ import annotations

import asyncio

from dashboard.elements.coalescer import Coalescer

INTERVAL_S = 0.05


def collector() -> tuple[list[list[int]], Coalescer[int]]:
    deliveries: list[list[int]] = []
    return deliveries, Coalescer(deliveries.append, INTERVAL_S)


async def test_the_first_items_are_delivered_at_once() -> None:
    deliveries, coalescer = collector()
    coalescer.add([1, 2])
    assert deliveries == [[1, 2]]


async def test_items_within_the_interval_wait_and_go_together_in_order() -> None:
    deliveries, coalescer = collector()
    coalescer.add([1])
    coalescer.add([2])
    coalescer.add([3, 4])
    assert deliveries == [[1]]
    await asyncio.sleep(INTERVAL_S * 2)
    assert deliveries == [[1], [2, 3, 4]]


async def test_after_a_quiet_spell_items_go_at_once_again() -> None:
    deliveries, coalescer = collector()
    coalescer.add([1])
    await asyncio.sleep(INTERVAL_S * 1.5)
    coalescer.add([2])
    assert deliveries == [[1], [2]]


async def test_nothing_to_add_delivers_nothing() -> None:
    deliveries, coalescer = collector()
    coalescer.add([])
    await asyncio.sleep(INTERVAL_S * 1.5)
    assert deliveries == []


async def test_cancel_drops_what_waits() -> None:
    deliveries, coalescer = collector()
    coalescer.add([1])
    coalescer.add([2])
    coalescer.cancel()
    await asyncio.sleep(INTERVAL_S * 2)
    assert deliveries == [[1]]
    coalescer.add([3])
    assert deliveries == [[1], [3]]
