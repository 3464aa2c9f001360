"""The rows transport: batches of rows sent to one element as their own socket message.

Rows do not go through `run_method`: it makes the browser eval() each call's source, and Chromium
keeps every evaluated source alive, so a busy stream grew the tab's heap without bound. The rows go
as JSON in a binary attachment, parsed once in the page by `rows_feed.js`, this class's browser half.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

import orjson
from nicegui.element import Element

from .socket_backlog import MAX_WAITING_MESSAGES, cut_off, waiting_messages

log = logging.getLogger("uvicorn.error")

# The socket message that carries rows: {"feed": the element's id, "rows": a JSON array as bytes,
# "history": true for rows that were in the stream before the viewer came, "older": true for rows
# older than any the page holds, to go above them (what a reloaded page held before)}.
ROWS_MESSAGE = "bunnylogs_rows"

Row = dict[str, Any]
# Rows go in messages of at most about this size.
MAX_MESSAGE_BYTES = 128 * 1024


class RowsFeed:
    """Sends rows to the browser half of one element, which lists `RowsFeed.script` in its dependencies."""

    script: ClassVar[Path] = Path(__file__).with_suffix(".js")

    def __init__(self, element: Element) -> None:
        self._element = element
        self._cut_off = False  # the page stopped reading: nothing more goes to it

    @property
    def address(self) -> dict[str, Any]:
        """What `listenForRows` in the browser listens for (pass it as a prop): the message name and this feed."""
        return {"message": ROWS_MESSAGE, "id": self._element.id}

    def send(self, rows: list[Row], *, history: bool = False, older: bool = False) -> None:
        """Send `rows` as one message, after everything sent before; nothing once the element is deleted.

        A page that has not taken `MAX_WAITING_MESSAGES` messages is cut off instead (see
        `socket_backlog`): it gets nothing more, and reloads if it ever comes back.
        """
        element = self._element
        if element.is_deleted or self._cut_off:
            return
        if waiting_messages(element.client) > MAX_WAITING_MESSAGES:
            self._cut_off = True
            log.warning("a page of client %s stopped reading its socket: cut off", element.client.id)
            cut_off(element.client)
            return
        for encoded in _pieces(rows):
            payload = {"feed": element.id, "rows": encoded, "history": history, "older": older}
            element.client.outbox.enqueue_message(ROWS_MESSAGE, payload, element.client.id)


def _pieces(rows: list[Row]) -> list[bytes]:
    """`rows` as JSON arrays of at most about `MAX_MESSAGE_BYTES` each (one row may be larger alone).

    Bounded messages bound what a page holds in the server while it takes them, and what NiceGUI
    keeps to replay after a reconnect.
    """
    encoded = orjson.dumps(rows)
    if len(encoded) <= MAX_MESSAGE_BYTES or len(rows) == 1:
        return [encoded]
    half = len(rows) // 2
    return [*_pieces(rows[:half]), *_pieces(rows[half:])]


def rows_in(message: dict[str, Any]) -> list[Row]:
    """The rows one `ROWS_MESSAGE` carries, for a reader of the socket other than the page."""
    rows: list[Row] = orjson.loads(message["rows"])
    return rows
