"""The pages this browser opened lately: recorded by each stream page, listed on the landing page.

Both live in the browser's localStorage (`stream_labels.js`): nothing about them goes to the server.
"""

from __future__ import annotations

from typing import Any

from nicegui.element import Element


class PageVisit(Element, component="page_visit.js", dependencies=["stream_labels.js", "printable_text.js"]):
    """Records, in this browser, that it opened this page (its address) showing `streams`; shows nothing."""

    def __init__(self, streams: list[dict[str, Any]]) -> None:
        super().__init__()
        self._props["streams"] = streams


class RecentPages(Element, component="recent_pages.js", dependencies=["stream_labels.js", "printable_text.js"]):
    """The list of pages this browser opened lately, newest first, each a link with its streams' names."""
