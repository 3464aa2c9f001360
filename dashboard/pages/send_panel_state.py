"""Whether a stream page's send panel is open: open for an empty stream, else as this browser last chose."""

from __future__ import annotations

import asyncio

from nicegui import ui

from ..stream import Bus, BusUnavailable

_STORAGE_KEY = "bunnylogs-send-panel"  # 'open' or 'closed', in the browser's localStorage
_PEEK_TIMEOUT_S = 1.0
_ANSWER_TIMEOUT_S = 10.0


async def opens_by_default(bus: Bus, stream_id: str, *, has_query: bool) -> bool:
    """Whether the panel starts open: only on a stream with no line yet, where sending is the next step.

    A link with a view's filters (`has_query`) is for reading, so it starts closed; so does a
    stream whose bus cannot answer at once.
    """
    if has_query:
        return False
    try:
        newest = await asyncio.wait_for(bus.read(stream_id, after=None, limit=1), _PEEK_TIMEOUT_S)
    except (BusUnavailable, TimeoutError):
        return False
    return not newest


def remember_choice(panel: ui.expansion) -> None:
    """Keep the reader's open/closed choice in this browser each time they open or close `panel`."""
    panel.on("update:model-value",
             js_handler=f"(open) => localStorage.setItem('{_STORAGE_KEY}', open ? 'open' : 'closed')")


async def restore_choice(panel: ui.expansion) -> None:
    """Open or close `panel` as this browser last chose, if it did (call once the page is connected).

    A browser that does not answer in time keeps the default.
    """
    if panel.is_deleted:
        return
    try:
        stored = await panel.client.run_javascript(f"localStorage.getItem('{_STORAGE_KEY}')",
                                                   timeout=_ANSWER_TIMEOUT_S)
    except TimeoutError:
        return
    if stored in ("open", "closed") and not panel.is_deleted:
        panel.value = stored == "open"
