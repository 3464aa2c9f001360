"""Which streams a page's address names: `/<key>`, or `/<key>+<key>[+…]` for a merged view of several.

Each key is a write key or a view key (`protocol`), in any case. Nothing here reads the bus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..protocol import STREAM_ID_ANY_CASE_PATTERN, bus_stream_id, canonical_stream_id, is_view_key, view_key

# A merged view follows at most this many streams (each one subscription, and one viewer of it).
MAX_MERGED_STREAMS = 8
# An address may repeat a stream (in another case, or by its other key): it names one stream each time.
# Past this many parts it is refused unread, so a huge address costs nothing to answer.
MAX_ADDRESS_PARTS = 100
SEPARATOR = "+"
# How much of a key names it in the page (a row's mark, `?hide_stream=`): enough to tell streams apart.
SHORT_KEY_CHARS = 8
_SHORT_KEY = re.compile(rf"[0-9a-f]{{{SHORT_KEY_CHARS}}}")
_KEY_IN_TEXT = re.compile(rf"(?<![0-9a-fA-F-])({STREAM_ID_ANY_CASE_PATTERN})(?![0-9a-fA-F-])")


@dataclass(frozen=True)
class TooManyStreams:
    """An address that names more distinct streams than a merged view follows."""

    named: int


@dataclass(frozen=True)
class TooManyParts:
    """An address that joins more than `MAX_ADDRESS_PARTS` parts: not read, whatever they name."""

    parts: int


def page_keys(path: str) -> list[str] | TooManyStreams | TooManyParts | None:
    """The keys `path` (without its leading `/`) names, lower-case, each stream once, in order; None if malformed.

    A write key and its view key name one stream: the one given first stays. Streams are counted once
    the repeats are collapsed.
    """
    parts = path.split(SEPARATOR, MAX_ADDRESS_PARTS)
    if len(parts) > MAX_ADDRESS_PARTS:  # not worth parsing, whatever it holds
        return TooManyParts(path.count(SEPARATOR) + 1)
    keys: dict[str, str] = {}
    for part in parts:
        key = canonical_stream_id(part)
        if key is None:
            return None
        keys.setdefault(bus_stream_id(key), key)
    if len(keys) > MAX_MERGED_STREAMS:
        return TooManyStreams(len(keys))
    return list(keys.values())


def keys_path(keys: list[str]) -> str:
    """The page address of `keys` (one stream, or a merged view)."""
    return "/" + SEPARATOR.join(keys)


def short_key(key: str) -> str:
    """The first characters of a key, which name its stream within a page."""
    return key[:SHORT_KEY_CHARS]


def is_short_key(text: str) -> bool:
    """True for what `short_key` gives (lower-case hex)."""
    return _SHORT_KEY.fullmatch(text) is not None


def page_stream(key: str) -> dict[str, str | bool]:
    """What a page tells its browser of a stream: the start of the key it was given, the view key its
    label is kept under (this browser's name for it), and whether it is read-only.

    Never a write key it was not given: a view key's stream is named by view keys alone.
    """
    return {"short": short_key(key), "label_key": view_key(key), "read_only": is_view_key(key)}


def keys_in_text(text: str) -> list[str]:
    """The stream keys in pasted text (a page or POST URL, a merged view's URL, a bare key), lower-case, in order."""
    return list(dict.fromkeys(match.lower() for match in _KEY_IN_TEXT.findall(text[:4096])))
