"""The live log view: rows live in the browser; Python sends new entries in batches and drives the view."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from nicegui.element import Element
from nicegui.events import GenericEventArguments

from ..entry import StreamEntry
from ..protocol import LEVEL_RANKS, is_entry_id
from .rows_feed import RowsFeed, StreamTag

# Where the page resumes: the ID of the last entry it has of each stream, by the stream's index in
# the page (0 on a page of one stream); a stream it has none of is left out.
ResumePoints = Mapping[int, str]
# Called with where the page resumes when its socket came back.
Resume = Callable[[ResumePoints], None]
# What a page's resume is read of, at most: more than a merged view follows (the rest is ignored anyway).
_MAX_RESUME_POINTS = 32

# The parts of the browser half; log_view.js imports them by name (the page's import map).
# log_highlight_worker runs in a worker of its own: log_highlight finds it by name, not by importing it.
_PARTS: list[str | Path] = [RowsFeed.script, "log_intake.js", "log_rows.js", "log_list.js", "log_row_element.js",
                            "log_text.js", "log_ansi.js", "log_pattern.js", "log_highlight.js",
                            "log_highlight_worker.js", "log_input.js", "log_export.js", "log_status.js",
                            "log_older.js", "log_link.js", "log_volume.js", "log_strip.js", "log_fields.js",
                            "log_columns.js", "stream_labels.js", "printable_text.js", "vendor/re2js.js"]
# The volume strip's level groups (log_volume.js's GROUPS), by the lowest rank in each: error, warning,
# info, debug. A level not named here (a sender's own) is drawn as info.
_STRIP_GROUP_RANKS = (LEVEL_RANKS["ERROR"], LEVEL_RANKS["WARNING"], LEVEL_RANKS["INFO"], 0)


def strip_level_groups() -> dict[str, int]:
    """Each level with a rank, and the group of the volume strip it is drawn in (0 error … 3 debug)."""
    return {level: next(group for group, lowest in enumerate(_STRIP_GROUP_RANKS) if rank >= lowest)
            for level, rank in LEVEL_RANKS.items()}


class LogView(Element, component="log_view.js", dependencies=_PARTS):
    """A virtualised list of log rows that keeps at most `max_rows` in the browser.

    Filtering, highlighting, pausing, following and downloads run in the browser over the rows it
    holds; the methods below only tell it what to do. It emits `seen` (new programs and levels),
    `filter_error` (an invalid regular expression, or none), `highlight_errors` (the positions of
    the highlight rules turned off: invalid, or too slow), `key` (keyboard shortcuts) and `older`
    (an ask for the lines before its oldest row, see `pages.older_lines`), `pause` (the reader went
    to a bar of the volume strip: the view should pause), `strip` (the reader hid or showed it) and
    `columns` (the fields the reader chose to show as columns).

    When the page's socket drops, nothing is sent until the page is back and says which entry it
    has last; `on_resume` is then told, to send what it missed (see `receiving_history`).
    """

    def __init__(self, *, max_rows: int, view_filter: dict[str, Any], highlights: list[dict[str, Any]], utc: bool,
                 stream_name: str, link_path: str, anchor: dict[str, str | None] | None = None,
                 display: dict[str, Any] | None = None, streams: list[dict[str, Any]] | None = None) -> None:
        """`link_path`: the stream's read-only address, which links to a line use (on a merged view, the
        view's read-only address: a link to a line opens in the line's own stream).

        `anchor` ({id, next}, entry IDs from the bus): the page opens paused at that line (see `pages.line_link`).

        `display` ({strip, columns, maxColumns, maxColumnChars}, see `ViewFilter.display_component`): the volume strip
        shown or not, and the fields shown as columns.

        On a merged view, `streams` ({short, label_key, read_only} each, by index in the page) name the
        streams its rows are marked with.
        """
        super().__init__()
        self._props["maxRows"] = max_rows
        self._props["filter"] = view_filter
        self._props["highlights"] = highlights
        self._props["utc"] = utc
        self._props["streamName"] = stream_name
        self._props["linkPath"] = link_path
        self._props["anchor"] = anchor
        if display is not None:
            self._props["display"] = display
        self._props["levelGroups"] = strip_level_groups()
        if streams:
            self._props["streams"] = streams
        self._feed = RowsFeed(self)
        self._props["feed"] = self._feed.address
        self._receiving_history = False
        self._resume: Resume | None = None
        self._awaiting_resume = False  # the socket dropped and the page has not said where it resumes
        self.client.on_disconnect(self._socket_dropped)
        self.on("resume", self._page_resumes)

    def push(self, entries: list[StreamEntry], stream: StreamTag = None) -> None:
        """Send entries to the browser: history at once; live ones at once when its socket is free, else gathered.

        `stream`: on a merged view, the page's index of the stream they came from, or one per entry.
        """
        if self._receiving_history:
            self._feed.send_history(entries, stream)
        elif isinstance(stream, list):  # live rows go with one stream's index a message: each run in turn
            start = 0
            for end in range(1, len(entries) + 1):
                if end == len(entries) or stream[end] != stream[start]:
                    self._feed.send(entries[start:end], stream[start])
                    start = end
        else:
            self._feed.send(entries, stream)

    def on_resume(self, resume: Resume) -> None:
        """Call `resume` with the page's last entry IDs when its socket came back after a drop."""
        self._resume = resume

    @contextmanager
    def receiving_history(self) -> Iterator[None]:
        """Within this, what `push` gets is the stream's history: sent at once, marked as history.

        Subscribe within it: a subscription delivers the history (and what arrived while it was
        read) before it returns, and nothing live is gathered for the page yet, so order holds.
        It also ends a suspension after a dropped socket: what the page missed comes as history.
        """
        self._receiving_history = True
        self._feed.resume()
        try:
            yield
        finally:
            self._receiving_history = False

    def _socket_dropped(self) -> None:
        if not getattr(self.client, "_socket_to_document_id", None):  # no other socket of the page is live
            self._feed.suspend()
            self._awaiting_resume = True

    def push_older(self, entries: list[StreamEntry], streams: list[int] | None = None) -> None:
        """Send entries older than every row the browser holds, to go above them (at once, not gathered).

        `streams`: on a merged view, each entry's stream index in the page.
        """
        self._feed.send_older(entries, streams)

    def waiting_messages(self) -> int:
        """Messages sent to the page that its browser has not taken yet."""
        return self._feed.waiting_messages()

    async def restore_request(self, timeout: float) -> dict[str, Any] | None:
        """What the browser held before it was reloaded and what it holds now (see log_view.js), or None."""
        answer = await self.run_method("restoreRequest", timeout=timeout)
        return answer if isinstance(answer, dict) else None

    def _page_resumes(self, event: GenericEventArguments) -> None:
        # Only once per drop the server saw: a page that asks at other times is sent nothing again.
        if not self._awaiting_resume:
            return
        self._awaiting_resume = False
        if self._resume is not None:
            self._resume(_resume_points(event.args))

    def _handle_delete(self) -> None:
        self._feed.close()
        super()._handle_delete()

    def set_filter(self, view_filter: dict[str, Any]) -> None:
        """Show only the rows that pass `view_filter` (text, regex, invert, hidden_levels, programs)."""
        self.run_method("setFilter", view_filter)

    def set_highlights(self, rules: list[dict[str, Any]]) -> None:
        """Mark what `rules` (text, regex, colour: an index in the palette) match, hiding nothing."""
        self.run_method("setHighlights", rules)

    def clear_rows(self) -> None:
        """Empty this viewer's rows (other viewers keep theirs)."""
        self.run_method("clear")

    def follow(self) -> None:
        """Scroll to the newest row and stay there."""
        self.run_method("follow")

    def set_bus_available(self, available: bool) -> None:
        """Show in the status bar whether the log bus gives lines now (False: unavailable, reconnecting)."""
        self.run_method("setBusAvailable", available)

    def set_kept(self, kept: list[int], max_kept: int, newest: list[str | None]) -> None:
        """Say how many entries the bus keeps of each of the page's streams (at most `max_kept` each), and the
        ID of each one's newest then: the page counts on from there with the entries newer than those."""
        self.run_method("setKept", kept, max_kept, newest)

    def older_done(self, answer: dict[str, Any]) -> None:
        """Answer the page's ask for older lines (`older`): what was sent, and where the read or search stopped."""
        self.run_method("olderDone", answer)

    def set_utc(self, utc: bool) -> None:
        """Show times in UTC instead of the browser's local time."""
        self.run_method("setUtc", utc)

    def download(self, file_format: Literal["log", "ndjson"]) -> None:
        """Save the rows shown (after filters) as a `.log` text file or as `.ndjson`."""
        self.run_method("download", file_format)


def _resume_points(args: object) -> dict[int, str]:
    """What the page says it has last (`{"after": id}`, or `{"after_by_stream": {index: id}}`); nonsense is left out."""
    if not isinstance(args, dict):
        return {}
    by_stream = args.get("after_by_stream")
    if isinstance(by_stream, dict):
        points = {}
        for index, after in list(by_stream.items())[:_MAX_RESUME_POINTS]:
            if isinstance(index, str) and index.isdigit() and isinstance(after, str) and is_entry_id(after):
                points[int(index)] = after
        return points
    after = args.get("after")
    return {0: after} if isinstance(after, str) and is_entry_id(after) else {}
