"""GroupCommit: concurrent submissions share one write; each caller gets its own result or error."""

from __future__ import annotations

import asyncio

import pytest

from dashboard.bus.group_commit import GroupCommit


class GatedWriter:
    """Records each group; every write waits until the test opens the gate."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.gate = asyncio.Event()
        self.fail_next = False

    async def __call__(self, group: list[str]) -> list[str]:
        self.groups.append(group)
        await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("down")
        return [item.upper() for item in group]


async def started_writes(writer: GatedWriter, count: int) -> None:
    """Let the loop run until `count` writes have begun."""
    for _ in range(100):
        if len(writer.groups) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{len(writer.groups)} writes began, expected {count}")


async def test_a_lone_item_is_written_at_once() -> None:
    writer = GatedWriter()
    writer.gate.set()
    commit = GroupCommit(writer)

    assert await commit.submit("a") == "A"
    assert writer.groups == [["a"]]


async def test_items_that_arrive_during_a_write_go_together_in_the_next() -> None:
    writer = GatedWriter()
    commit = GroupCommit(writer)
    first = asyncio.create_task(commit.submit("a"))
    await started_writes(writer, 1)  # the first write is under way, held at the gate
    later = [asyncio.create_task(commit.submit(item)) for item in ("b", "c", "d")]
    await asyncio.sleep(0)
    writer.gate.set()

    assert await first == "A"
    assert [await task for task in later] == ["B", "C", "D"]
    assert writer.groups == [["a"], ["b", "c", "d"]]


async def test_an_error_fails_its_own_group_only() -> None:
    writer = GatedWriter()
    commit = GroupCommit(writer)
    writer.fail_next = True
    failing = [asyncio.create_task(commit.submit(item)) for item in ("a", "b")]
    await started_writes(writer, 1)
    after = asyncio.create_task(commit.submit("c"))
    writer.gate.set()

    for task in failing:
        with pytest.raises(ConnectionError):
            await task
    assert await after == "C"
    assert writer.groups == [["a", "b"], ["c"]]


async def test_a_caller_that_stops_waiting_still_has_its_item_written() -> None:
    writer = GatedWriter()
    commit = GroupCommit(writer)
    leaving = asyncio.create_task(commit.submit("a"))
    staying = asyncio.create_task(commit.submit("b"))
    await started_writes(writer, 1)
    leaving.cancel()
    writer.gate.set()

    assert await staying == "B"
    assert writer.groups == [["a", "b"]]
    assert leaving.cancelled()


async def test_drain_waits_for_the_write_under_way() -> None:
    writer = GatedWriter()
    commit = GroupCommit(writer)
    task = asyncio.create_task(commit.submit("a"))
    await started_writes(writer, 1)
    draining = asyncio.create_task(commit.drain())
    await asyncio.sleep(0.01)
    assert not draining.done()

    writer.gate.set()
    await draining
    assert task.done() and task.result() == "A"


async def test_a_writer_that_returns_the_wrong_number_of_results_fails_the_callers() -> None:
    async def short_writer(group: list[str]) -> list[str]:
        return group[:-1]

    commit: GroupCommit[str, str] = GroupCommit(short_writer)
    results = await asyncio.gather(commit.submit("a"), commit.submit("b"), return_exceptions=True)

    assert all(isinstance(result, RuntimeError) for result in results)
