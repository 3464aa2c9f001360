"""Group commit: requests that arrive while a write is under way go together in the next one.

Under load, many POSTs are waiting on the bus at once. Writing each with its own round trip
spends most of the time in per-command overhead; writing them together costs one round trip for
all. When nothing else is waiting a request is written at once, so a quiet stream pays no delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Writes a group of items and returns one result per item, in order; raising fails them all.
WriteGroup = Callable[[list[Item]], Awaitable[Sequence[Result]]]


class GroupCommit(Generic[Item, Result]):
    """Submit items one by one; they are written in groups by `write_group`, one group at a time."""

    def __init__(self, write_group: WriteGroup[Item, Result]) -> None:
        self._write_group = write_group
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Write `item` with whatever else is waiting, and return its result.

        A caller that is cancelled stops waiting, but its item is still written.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_while_waiting(), name="bunnylogs group commit")
        return await future

    async def drain(self) -> None:
        """Wait until everything submitted so far is written."""
        while self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write_while_waiting(self) -> None:
        group: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    results = list(await self._write_group([item for item, _ in group]))
                    if len(results) != len(group):
                        raise RuntimeError(f"a group of {len(group)} was written with {len(results)} results")
                except Exception as error:  # every caller in the group gets the error
                    for _, future in group:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(group, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._writer = None
            for _, future in group + self._waiting:  # only when this task itself is cancelled
                future.cancel()
            self._waiting = []
