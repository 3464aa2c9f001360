"""`bunnylogs tail`: print a stream's entries as they arrive, following it across reconnects."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from typing import Any, TextIO

from ..protocol import level_rank
from .follow import StreamGone, follow

_COLOURS = {"TRACE": "2", "DEBUG": "2", "INFO": "32", "NOTICE": "36", "WARNING": "33", "ERROR": "31",
            "CRITICAL": "1;31"}


def tail(url: str, *, min_rank: int | None, pattern: re.Pattern[str] | None, as_json: bool, history: int,
         out: TextIO | None = None) -> int:
    """Print entries (the last `history`, then live ones) that pass the filters, until interrupted.

    `min_rank` keeps entries whose level ranks at least that high (see `protocol.level_threshold`).
    """
    out = out or sys.stdout
    colour = out.isatty() and "NO_COLOR" not in os.environ and not as_json
    try:
        for entry in follow(url, history=history, on_status=_status):
            if min_rank is not None and level_rank(entry["level"]) < min_rank:
                continue
            if pattern is not None and not pattern.search(entry["message"]):
                continue
            out.write((json.dumps(entry, ensure_ascii=False) if as_json else format_line(entry, colour)) + "\n")
            out.flush()
    except StreamGone as error:
        print(f"bunnylogs tail: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `bunnylogs tail … | head`
        sys.stderr.close()
        return 0
    return 0


def format_line(entry: dict[str, Any], colour: bool) -> str:
    """`2026-11-25 10:00:00.123 WARNING program message {fields}`, in local time.

    Control characters in the entry are shown escaped: log text must not drive the terminal.
    """
    moment = dt.datetime.fromtimestamp(entry["ts"]).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    level = printable(entry["level"])
    shown_level = f"{level:<8}"
    if colour:
        shown_level = f"\033[{_COLOURS.get(level, '0')}m{shown_level}\033[0m"
    line = f"{moment} {shown_level} {printable(entry['program'])} {printable(entry['message'])}"
    if entry.get("fields"):
        fields = printable(json.dumps(entry["fields"], ensure_ascii=False))
        line += f" \033[2m{fields}\033[0m" if colour else f" {fields}"
    return line


# Control characters but tab and newline (C0, DEL, C1), the bidirectional marks, embeddings,
# overrides and isolates (U+202E shows the text after it reversed), the line and paragraph separators
# (U+2028, U+2029: some terminals and editors break the line there), and characters that show nothing:
# soft hyphen, Mongolian vowel separator, zero-width space, word joiner and the invisible operators
# (U+2060-U+2064), byte order mark. The page's log_text.js mirrors it.
UNSAFE_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def printable(text: str) -> str:
    """`text` with unsafe characters (see `UNSAFE_CHARACTERS`) written as `\\xNN` or `\\uNNNN`."""
    return UNSAFE_CHARACTERS.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _status(text: str) -> None:
    print(f"bunnylogs tail: {text}", file=sys.stderr, flush=True)
