"""The rows transport: batches of rows sent to one element as their own socket message.

Rows do not go through `run_method`: it makes the browser eval() each call's source, and Chromium
keeps every evaluated source alive, so a busy stream grew the tab's heap without bound. The rows go
as JSON in a binary attachment, parsed once in the page by `rows_feed.js`, this class's browser half.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import orjson
from nicegui.element import Element

# The socket message that carries rows: {"feed": the element's id, "rows": a JSON array as bytes,
# "history": true for rows that were in the stream before the viewer came}.
ROWS_MESSAGE = "bunnylogs_rows"

Row = dict[str, Any]


class RowsFeed:
    """Sends rows to the browser half of one element, which lists `RowsFeed.script` in its dependencies."""

    script: ClassVar[Path] = Path(__file__).with_suffix(".js")

    def __init__(self, element: Element) -> None:
        self._element = element

    @property
    def address(self) -> dict[str, Any]:
        """What `listenForRows` in the browser listens for (pass it as a prop): the message name and this feed."""
        return {"message": ROWS_MESSAGE, "id": self._element.id}

    def send(self, rows: list[Row], *, history: bool = False) -> None:
        """Send `rows` as one message, after everything sent before; nothing once the element is deleted."""
        element = self._element
        if element.is_deleted:
            return
        payload = {"feed": element.id, "rows": orjson.dumps(rows), "history": history}
        element.client.outbox.enqueue_message(ROWS_MESSAGE, payload, element.client.id)


def rows_in(message: dict[str, Any]) -> list[Row]:
    """The rows one `ROWS_MESSAGE` carries, for a reader of the socket other than the page."""
    rows: list[Row] = orjson.loads(message["rows"])
    return rows
