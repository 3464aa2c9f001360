"""The send panel's default: open on an empty stream only, closed for a link with filters or a bus that cannot say."""

from __future__ import annotations

from collections.abc import Sequence

from dashboard.bus.memory import MemoryBus
from dashboard.entry import LogEntry, StreamEntry
from dashboard.pages.send_panel_state import opens_by_default
from dashboard.stream import BusUnavailable


class DownBus(MemoryBus):
    """A bus whose reads fail, as Redis does while it is down."""

    async def read(self, stream_id: str, *, after: str | None, limit: int) -> list[StreamEntry]:
        raise BusUnavailable("down")

    async def publish(self, stream_id: str, entries: Sequence[LogEntry], *, batch_key: str | None = None) -> list[str]:
        raise BusUnavailable("down")


async def test_open_on_an_empty_stream_closed_once_it_has_a_line() -> None:
    bus = MemoryBus(max_length=100)
    assert await opens_by_default(bus, "s", has_query=False)
    await bus.publish("s", [LogEntry(message="one", timestamp=0.0)])
    assert not await opens_by_default(bus, "s", has_query=False)


async def test_closed_for_a_link_with_filters_and_when_the_bus_cannot_say() -> None:
    assert not await opens_by_default(MemoryBus(max_length=100), "s", has_query=True)
    assert not await opens_by_default(DownBus(max_length=100), "s", has_query=False)
