"""The live log view: rows live in the browser; Python sends new entries in batches and drives the view."""

from __future__ import annotations

from typing import Any, Literal

from nicegui.element import Element

from ..entry import StreamEntry


class LogView(Element, component="log_view.js"):
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

    def push(self, entries: list[StreamEntry]) -> None:
        """Send a batch of entries to the browser, as one message."""
        if entries:
            self.run_method("append", [stream_entry.to_wire() for stream_entry in entries])

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
