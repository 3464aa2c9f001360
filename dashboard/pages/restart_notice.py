"""After the server restarts, an open stream page reloads: tell the reader when its lines are gone.

NiceGUI reloads a page whose socket reconnects to a server that does not know it. On the memory
bus the stream starts empty again, and the page would blank without a word. Each tab keeps in
sessionStorage which server instance showed it which stream, and whether that page showed lines.
"""

from __future__ import annotations

import json
import secrets

from nicegui import Client, ui

from ..entry import StreamEntry
from ..stream import Deliver

SERVER_INSTANCE = secrets.token_hex(8)  # new with each start of this process
LINES_GONE = "The server restarted; lines from before the restart are gone."
_STORAGE_KEY = "bunnylogs-viewed"  # sessionStorage: {"server": …, "stream": …, "rows": bool}
_ANSWER_TIMEOUT_S = 10.0


class RestartNotice:
    """For one page of `stream_id`: remembers in the tab what this server showed, says when lines were lost."""

    def __init__(self, stream_id: str, *, entries_survive: bool) -> None:
        self.stream_id = stream_id
        self.entries_survive = entries_survive
        self.rows_shown = False
        self._client: Client | None = None  # set once the tab's record was read
        self._recorded_rows = False

    def watch(self, deliver: Deliver) -> Deliver:
        """`deliver`, noting in the tab's record when the page is first given lines."""
        def deliver_and_note(entries: list[StreamEntry]) -> None:
            deliver(entries)
            if entries and not self.rows_shown:
                self.rows_shown = True
                self._record()
        return deliver_and_note

    async def check(self, client: Client) -> None:
        """Read the tab's record, say so if a restart lost the lines it showed, then record this page.

        Call once the page is connected; a browser that does not answer in time is not told.
        """
        if self.entries_survive:  # the history comes back: nothing to tell
            return
        try:
            stored = await client.run_javascript(f"sessionStorage.getItem('{_STORAGE_KEY}')",
                                                 timeout=_ANSWER_TIMEOUT_S)
        except TimeoutError:
            return
        if client.is_deleted:
            return
        if _lines_were_lost(_parse(stored), self.stream_id):
            with client:
                ui.notify(LINES_GONE, type="warning", position="top", timeout=0, close_button="OK",
                          classes="bl-restart-notice")
        self._client = client
        self._record()

    def _record(self) -> None:
        client = self._client
        if client is None or client.is_deleted or self._recorded_rows:
            return
        self._recorded_rows = self.rows_shown
        record = json.dumps({"server": SERVER_INSTANCE, "stream": self.stream_id, "rows": self.rows_shown})
        client.run_javascript(f"sessionStorage.setItem('{_STORAGE_KEY}', {json.dumps(record)})")


def _parse(stored: object) -> dict[str, object]:
    """The tab's record, or an empty one: it comes from the browser, so anything else is ignored."""
    if not isinstance(stored, str):
        return {}
    try:
        record = json.loads(stored)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _lines_were_lost(record: dict[str, object], stream_id: str) -> bool:
    """Whether another instance of this server showed this tab lines of this stream."""
    return (record.get("stream") == stream_id and record.get("rows") is True
            and isinstance(record.get("server"), str) and record.get("server") != SERVER_INSTANCE)
