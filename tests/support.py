"""What several tests share and only tests need; the servers they run are in `harness.servers`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

import pytest

SENTINEL = "sentinel: everything before me has been delivered"


# What a Collector reads of a delivered entry (a `StreamEntry`), so that this module needs no server import.
class _Entry(Protocol):
    @property
    def message(self) -> str: ...


class _Delivered(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def entry(self) -> _Entry: ...


Delivered = TypeVar("Delivered", bound=_Delivered)


class Collector(Generic[Delivered]):
    """A subscriber callback that remembers the stream entries it was given, in order."""

    def __init__(self) -> None:
        self.entries: list[Delivered] = []

    def __call__(self, batch: Sequence[Delivered]) -> None:
        self.entries.extend(batch)

    @property
    def ids(self) -> list[str]:
        return [delivered.id for delivered in self.entries]

    @property
    def messages(self) -> list[str]:
        return [delivered.entry.message for delivered in self.entries]

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        """Wait until `count` entries have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.entries) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"expected {count} entries within {timeout} s, got {len(self.entries)}")
            await asyncio.sleep(0.005)

    async def wait_for_sentinel(self, timeout: float = 5.0) -> list[str]:
        """Wait until the `SENTINEL` entry has arrived; the messages that arrived before it."""
        deadline = time.monotonic() + timeout
        while SENTINEL not in self.messages:
            if time.monotonic() > deadline:
                pytest.fail(f"the sentinel did not arrive within {timeout} s; got {self.messages}")
            await asyncio.sleep(0.005)
        messages = self.messages
        return messages[:messages.index(SENTINEL)]
