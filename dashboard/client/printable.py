"""Text from a log or a server made safe to print on a terminal: what could drive it or hide text is escaped."""

from __future__ import annotations

import json
import re

# Control characters but tab and newline (C0, DEL, C1), the bidirectional marks, embeddings,
# overrides and isolates (U+202E shows the text after it reversed), the line and paragraph separators
# (U+2028, U+2029: some terminals and editors break the line there), and characters that show nothing:
# soft hyphen, Mongolian vowel separator, zero-width space, word joiner and the invisible operators
# (U+2060-U+2064), the deprecated format characters (U+206A-U+206F), byte order mark, and the
# interlinear annotation marks (U+FFF9-U+FFFB). The page's log_text.js mirrors it.
UNSAFE_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    r"\ufeff\ufff9-\ufffb]")
# And for a terminal, lone surrogates too, which JSON's `\ud800` escapes can make and no encoder writes:
# printed as they are, they ended tail with a traceback. (Not in the set the page shares: in JavaScript's
# strings surrogates are also the halves of every emoji.)
_TERMINAL_UNSAFE = re.compile(UNSAFE_CHARACTERS.pattern.removesuffix("]") + "\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with unsafe characters (see `UNSAFE_CHARACTERS`) and lone surrogates written as `\\xNN` or `\\uNNNN`."""
    return _TERMINAL_UNSAFE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable_json(value: object, ascii_only: bool = False) -> str:
    """`value` as one line of JSON, non-ASCII kept (unless `ascii_only`), with unsafe characters (see
    `UNSAFE_CHARACTERS`) and lone surrogates as `\\uNNNN`.

    `json.dumps` escapes only C0 controls: DEL, C1 controls (`\\x9b` starts an escape sequence on some
    terminals) and bidirectional overrides would reach the terminal.
    """
    return _TERMINAL_UNSAFE.sub(_json_escaped, json.dumps(value, ensure_ascii=ascii_only))


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
