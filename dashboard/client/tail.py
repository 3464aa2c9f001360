"""`bunnylogs tail`: print a stream's entries as they arrive, following it across reconnects."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import sys
from typing import Any, TextIO

from ..protocol import MAX_FILTER_CHARS, level_rank, shown_message
from ..time_bounds import iso_utc
from .follow import StreamGone, follow, replay
from .printable import printable, printable_json

_COLOURS = {"TRACE": "2", "DEBUG": "2", "INFO": "32", "NOTICE": "36", "WARNING": "33", "ERROR": "31",
            "CRITICAL": "1;31"}


def tail(url: str, *, min_rank: int | None, pattern: re.Pattern[str] | None, as_json: bool, history: int,
         since: float | None = None, until: float | None = None, out: TextIO | None = None) -> int:
    """Print entries (the last `history`, then live ones) that pass the filters, until interrupted.

    `min_rank` keeps entries whose level ranks at least that high (see `protocol.level_threshold`).
    With `since` or `until` (epoch seconds, on the entries' own time) it prints instead every stored
    entry in that range, filtered by the server as well, then live ones unless `until` is given.
    """
    out = out or sys.stdout
    colour = out.isatty() and "NO_COLOR" not in os.environ and not as_json
    # An output that cannot take every character (LANG=C's ASCII, latin-1): JSON in ASCII escapes, and
    # text with what it cannot write as `\\x..` escapes (an emoji ended tail with a traceback).
    ascii_json = not (getattr(out, "encoding", None) or "utf-8").lower().startswith("utf")
    if isinstance(out, io.TextIOWrapper):
        out.reconfigure(errors="backslashreplace")
    if since is None and until is None:
        entries = follow(url, history=history, on_status=_status)
    else:
        entries = replay(url, server_filters(min_rank, pattern, since, until), live=until is None, on_status=_status)
    try:
        for entry in entries:
            if min_rank is not None and level_rank(entry["level"]) < min_rank:
                continue
            # The message as shown and as the server searches it: a colour code inside the words is not text.
            if pattern is not None and not pattern.search(shown_message(entry["message"])):
                continue
            if since is not None and entry["ts"] < since:  # a live entry may carry an older time of its own
                continue
            out.write((printable_json(entry, ascii_json) if as_json else format_line(entry, colour)) + "\n")
            out.flush()
    except StreamGone as error:  # it holds the server's words: shown escaped, as log text is
        print(f"bunnylogs tail: {printable(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `bunnylogs tail … | head`
        sys.stderr.close()
        return 0
    return 0


def server_filters(min_rank: int | None, pattern: re.Pattern[str] | None, since: float | None,
                   until: float | None) -> dict[str, str]:
    """The `/entries` filters that select what `tail` shows, or more: tail checks each entry itself too."""
    filters = {"level": "" if min_rank is None else str(min_rank),
               "since": "" if since is None else iso_utc(since), "until": "" if until is None else iso_utc(until)}
    if pattern is not None and means_the_same_on_the_server(pattern.pattern):
        filters |= {"q": pattern.pattern, "re": "1"}  # the server's search ignores case: it finds more, not less
    return {name: value for name, value in filters.items() if value}


# What Python's re and the server's RE2 read differently, or RE2 refuses: `$` (the server searches the
# message and then its fields), `\` before a letter or digit (`\w`, `\b`, `\d` are ASCII-only in RE2;
# backreferences), `(?` groups (lookarounds), `{` repeats (RE2 stops at 1000), possessive repeats, and
# `[:` (a POSIX class in RE2, plain characters in Python).
_DIFFERS_ON_THE_SERVER = re.compile(r"[$]|\\[0-9A-Za-z]|\(\?|[{]|[*+?}]\+|\[:")


def means_the_same_on_the_server(pattern: str) -> bool:
    """Whether the server's search for `pattern` finds at least every message that Python's re finds."""
    return len(pattern) <= MAX_FILTER_CHARS and \
        _DIFFERS_ON_THE_SERVER.search(pattern.replace("\\\\", "")) is None


def format_line(entry: dict[str, Any], colour: bool) -> str:
    """`2026-11-25 10:00:00.123 WARNING program message {fields}`, in local time.

    Control characters in the entry are shown escaped: log text must not drive the terminal.
    """
    try:
        moment = dt.datetime.fromtimestamp(entry["ts"]).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    except (OverflowError, OSError, ValueError):  # a time no calendar date stands for
        moment = f"{entry['ts']:<23}"
    level = printable(entry["level"])
    shown_level = f"{level:<8}"
    if colour:
        shown_level = f"\033[{_COLOURS.get(level, '0')}m{shown_level}\033[0m"
    line = f"{moment} {shown_level} {printable(entry['program'])} {printable(entry['message'])}"
    if entry.get("fields"):
        fields = printable(json.dumps(entry["fields"], ensure_ascii=False))
        line += f" \033[2m{fields}\033[0m" if colour else f" {fields}"
    return line


def _status(text: str) -> None:
    """Say on standard error what tail is doing; what a server said in it is shown escaped (`printable`)."""
    print(f"bunnylogs tail: {printable(text)}", file=sys.stderr, flush=True)
