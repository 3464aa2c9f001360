"""What several tests share and only tests need; the servers they run are in `harness.servers`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from dashboard.entry import StreamEntry

SENTINEL = "sentinel: everything before me has been delivered"


class Collector:
    """A subscriber callback that remembers the stream entries it was given, in order."""

    def __init__(self) -> None:
        self.entries: list[StreamEntry] = []

    def __call__(self, batch: Sequence[StreamEntry]) -> None:
        self.entries.extend(batch)

    @property
    def ids(self) -> list[str]:
        return [stream_entry.id for stream_entry in self.entries]

    @property
    def messages(self) -> list[str]:
        return [stream_entry.entry.message for stream_entry in self.entries]

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
