"""The streams of a merged view: a chip per stream to show or hide it, rename it, open it alone or take it out."""

from __future__ import annotations

from typing import Any

from nicegui.element import Element


class StreamStrip(Element, component="stream_strip.js", dependencies=["stream_labels.js", "printable_text.js"]):
    """Chips for `streams` ({short, label_key, read_only} each, by index in the page) and a field to add one.

    It emits `toggle` ({short, shown}), `remove` ({index}) and `add` ({text}: what the reader typed
    or pasted). Names are this browser's own (localStorage): the server never sees them.
    """

    def __init__(self, streams: list[dict[str, Any]], *, hidden: tuple[str, ...]) -> None:
        super().__init__()
        self._props["streams"] = streams
        self._props["hidden"] = list(hidden)
