"""A page opened at one line: `?at=<entry id>` (a row's permalink) or `?since=<time>`, with the lines around it.

The page shows up to `CONTEXT_LINES` entries before the line and after it, the line marked and in
the middle of the view, and pauses: what came after the context waits, counted, until the reader
resumes. A link to a line the bus no longer keeps (or never had) opens at the nearest one kept,
and says so; a link that names no line or time opens as a plain page, and says so too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..entry import StreamEntry, within_bytes
from ..protocol import MAX_ENTRY_ID_PART, entry_id_order, is_entry_id
from ..stream import MAX_HISTORY_BYTES, Bus, BusUnavailable
from ..time_bounds import InvalidMoment, parse_moment

CONTEXT_LINES = 100
NOT_A_LINE = "That link's line (at=) is not a line ID like 1700000000000-0; showing the newest lines."
NOT_A_TIME = "That link's time (since=) is not a time like 15m or 2026-11-25T10:00:00Z; showing the newest lines."
NO_LONGER_KEPT = ("That line is older than any kept (no longer kept, or never in this stream);"
                  " showing the oldest kept lines.")
NO_SUCH_LINE = "No line has that ID; showing the lines nearest to it."
NOTHING_AFTER = "No line is kept at or after that point yet; showing the newest lines."
BUS_AWAY = "The log bus is unavailable, so the linked line cannot be found; showing the newest lines."


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """Where a link opens the page: the first entry at or after `entry_id`; `exact` for `at=` (the line itself)."""

    entry_id: str
    exact: bool


@dataclass(frozen=True, slots=True)
class LineContext:
    """The lines around the linked one, oldest first; `anchor` is the one to mark, `next_id` the entry after
    the last of them when the bus had one then (else None)."""

    entries: list[StreamEntry]
    anchor: str
    next_id: str | None


def link_target(query: Mapping[str, Sequence[str]], *, now: float | None = None) -> LinkTarget | str | None:
    """The target a page's query names (`at` first, then `since`), the notice for one that names none, or None."""
    at, since = (query.get(name, [""])[0] for name in ("at", "since"))
    if at:
        if not is_entry_id(at):
            return NOT_A_LINE
        milliseconds, sequence = entry_id_order(at)
        return LinkTarget(f"{milliseconds}-{sequence}", exact=True)
    if since:
        try:
            moment = parse_moment(since, now=time.time() if now is None else now)
        except InvalidMoment:
            return NOT_A_TIME
        milliseconds = min(max(int(moment * 1000), 0), MAX_ENTRY_ID_PART)
        return LinkTarget(f"{milliseconds}-0", exact=False)
    return None


def just_before(entry_id: str) -> str:
    """The greatest entry ID below `entry_id` (itself for the least one, `0-0`)."""
    milliseconds, sequence = entry_id_order(entry_id)
    if sequence:
        return f"{milliseconds}-{sequence - 1}"
    return f"{milliseconds - 1}-{MAX_ENTRY_ID_PART}" if milliseconds else "0-0"


async def read_context(bus: Bus, stream_id: str, target: LinkTarget) -> tuple[LineContext | None, str | None]:
    """The lines around the target's first entry, and the notice to show (None when it is the line asked for)."""
    try:
        after = await bus.read(stream_id, after=just_before(target.entry_id), limit=CONTEXT_LINES + 2)
        if not after:
            return None, NOTHING_AFTER
        anchor = after[0]
        before = await bus.read_before(stream_id, before=anchor.id, limit=CONTEXT_LINES)
    except BusUnavailable:
        return None, BUS_AWAY
    notice = None
    if target.exact and anchor.id != target.entry_id:
        notice = NO_SUCH_LINE if before else NO_LONGER_KEPT
    from_anchor = within_bytes(after[:CONTEXT_LINES + 1], MAX_HISTORY_BYTES // 2, keep_newest=False)
    next_id = after[len(from_anchor)].id if len(after) > len(from_anchor) else None
    entries = within_bytes(before, MAX_HISTORY_BYTES // 2, keep_newest=True) + from_anchor
    return LineContext(entries, anchor.id, next_id), notice
