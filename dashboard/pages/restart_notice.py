"""Tell the reader when a restart lost the lines of the stream: of the server, or of Redis.

NiceGUI reloads a page whose socket reconnects to a server that does not know it. On the memory
bus the stream starts empty again, and the page would blank without a word. Each tab keeps in
sessionStorage which server instance showed it which stream, and whether that page showed lines.

A bus that keeps its entries across the server's restarts (Redis) can still lose them itself
(Redis restarted without persistence): it says so, to the open pages as a notice and to a page
opened later through `history_lost`. Each notice is shown in the page (`PageNotices`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable

from nicegui import Client

from ..elements.rows_feed import StreamTag
from ..entry import StreamEntry

# Sends rows to the page (see `LogView.push`).
Push = Callable[[list[StreamEntry], StreamTag], None]

SERVER_INSTANCE = secrets.token_hex(8)  # new with each start of this process
LINES_GONE = "The server restarted; lines from before the restart are gone."
_STORAGE_KEY = "bunnylogs-viewed"  # sessionStorage: {"server": …, "stream": …, "rows": bool}
_ANSWER_TIMEOUT_S = 10.0
# Why this page's stream lost its earlier entries, if the bus knows (`Bus.history_lost` of its bus name).
HistoryLost = Callable[[], Awaitable[str | None]]


class RestartNotice:
    """For one page of `stream_id`: remembers in the tab what this server showed, says when lines were lost."""

    def __init__(self, stream_id: str, show: Callable[[str], None], *, entries_survive: bool,
                 history_lost: HistoryLost | None = None) -> None:
        """`show` puts a notice in the page (`PageNotices.show`)."""
        self.stream_id = stream_id
        self._show = show
        self.entries_survive = entries_survive
        self._history_lost = history_lost
        self.rows_shown = False
        self._client: Client | None = None  # set once the tab's record was read
        self._recorded_rows = False

    def watch(self, push: Push) -> Push:
        """`push`, noting in the tab's record when the page is first given lines."""
        def deliver_and_note(entries: list[StreamEntry], stream: StreamTag = None) -> None:
            push(entries, stream)
            if entries and not self.rows_shown:
                self.rows_shown = True
                self._record()
        return deliver_and_note

    async def check(self, client: Client) -> None:
        """Read the tab's record, say so if a restart lost the lines it showed, then record this page.

        Call once the page is connected; a browser that does not answer in time is not told. On a
        bus whose entries survive the server's restarts, only the bus can say they were lost.
        """
        if self.entries_survive:
            lost = await self._history_lost() if self._history_lost is not None else None
            if lost is not None:
                self._show(lost)
            return
        try:
            stored = await client.run_javascript(f"sessionStorage.getItem('{_STORAGE_KEY}')",
                                                 timeout=_ANSWER_TIMEOUT_S)
        except TimeoutError:
            return
        if client.is_deleted:
            return
        if _lines_were_lost(_parse(stored), self.stream_id):
            self._show(LINES_GONE)
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
