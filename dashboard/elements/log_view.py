"""The live log view: rows live in the browser; Python only sends new entries, in batches."""

from __future__ import annotations

from nicegui.element import Element

from ..entry import StreamEntry


class LogView(Element, component="log_view.js"):
    """A scrolling list of log rows that keeps at most `max_rows` in the browser."""

    def __init__(self, *, max_rows: int) -> None:
        super().__init__()
        self._props["maxRows"] = max_rows

    def push(self, entries: list[StreamEntry]) -> None:
        """Send a batch of entries to the browser, as one message."""
        if entries:
            self.run_method("append", [stream_entry.to_wire() for stream_entry in entries])
