"""The live log view: rows live in the browser; Python sends new entries in batches and drives the view."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from nicegui.element import Element

from ..entry import StreamEntry
from .coalescer import Coalescer
from .rows_feed import RowsFeed

# Entries that arrive within this long after a send go out together: at most ~50 messages/s per
# viewer however fast the stream is, and no added delay when it is slow. The page draws once per
# frame anyway.
SEND_INTERVAL_S = 0.02


# The parts of the browser half; log_view.js imports them by name (the page's import map).
_PARTS: list[str | Path] = [RowsFeed.script, "log_rows.js", "log_list.js", "log_row_element.js",
                            "log_text.js", "log_ansi.js", "log_input.js", "log_export.js", "log_status.js"]


class LogView(Element, component="log_view.js", dependencies=_PARTS):
    """A virtualised list of log rows that keeps at most `max_rows` in the browser.

    Filtering, pausing, following and downloads run in the browser over the rows it holds; the
    methods below only tell it what to do. It emits `seen` (new programs and levels),
    `filter_error` (an invalid regular expression, or none) and `key` (keyboard shortcuts).
    """

    def __init__(self, *, max_rows: int, view_filter: dict[str, Any], utc: bool, stream_name: str) -> None:
        super().__init__()
        self._props["maxRows"] = max_rows
        self._props["filter"] = view_filter
        self._props["utc"] = utc
        self._props["streamName"] = stream_name
        self._feed = RowsFeed(self)
        self._props["feed"] = self._feed.address
        self._outgoing: Coalescer[StreamEntry] = Coalescer(self._send, SEND_INTERVAL_S)
        self._receiving_history = False

    def push(self, entries: list[StreamEntry]) -> None:
        """Send entries to the browser: history at once; live ones at once when quiet, else with the next send."""
        if self._receiving_history:
            self._feed.send(self._wire(entries), history=True)
        else:
            self._outgoing.add(entries)

    @contextmanager
    def receiving_history(self) -> Iterator[None]:
        """Within this, what `push` gets is the stream's history: sent at once, marked as history.

        Subscribe within it: a subscription delivers the history (and what arrived while it was
        read) before it returns, and nothing live can wait in the coalescer yet, so order holds.
        """
        self._receiving_history = True
        try:
            yield
        finally:
            self._receiving_history = False

    def push_older(self, entries: list[StreamEntry]) -> None:
        """Send entries older than every row the browser holds, to go above them (at once, not coalesced)."""
        self._feed.send(self._wire(entries), older=True)

    async def restore_request(self, timeout: float) -> dict[str, Any] | None:
        """What the browser held before it was reloaded and what it holds now (see log_view.js), or None."""
        answer = await self.run_method("restoreRequest", timeout=timeout)
        return answer if isinstance(answer, dict) else None

    def _send(self, entries: list[StreamEntry]) -> None:
        self._feed.send(self._wire(entries))

    @staticmethod
    def _wire(entries: list[StreamEntry]) -> list[dict[str, Any]]:
        return [stream_entry.to_wire() for stream_entry in entries]

    def _handle_delete(self) -> None:
        self._outgoing.cancel()
        super()._handle_delete()

    def set_filter(self, view_filter: dict[str, Any]) -> None:
        """Show only the rows that pass `view_filter` (text, regex, invert, hidden_levels, programs)."""
        self.run_method("setFilter", view_filter)

    def set_paused(self, paused: bool) -> None:
        """Hold new rows (and count them) while paused; show them in order on resume."""
        self.run_method("setPaused", paused)

    def clear_rows(self) -> None:
        """Empty this viewer's rows (other viewers keep theirs)."""
        self.run_method("clear")

    def follow(self) -> None:
        """Scroll to the newest row and stay there."""
        self.run_method("follow")

    def set_utc(self, utc: bool) -> None:
        """Show times in UTC instead of the browser's local time."""
        self.run_method("setUtc", utc)

    def download(self, file_format: Literal["log", "ndjson"]) -> None:
        """Save the rows shown (after filters) as a `.log` text file or as `.ndjson`."""
        self.run_method("download", file_format)
