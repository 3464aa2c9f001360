"""Which streams a page's address names: `/<key>`, or `/<key>+<key>[+…]` for a merged view of several.

Each key is a write key or a view key (`protocol`), in any case. Nothing here reads the bus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..protocol import STREAM_ID_ANY_CASE_PATTERN, bus_stream_id, canonical_stream_id, is_view_key, view_key

# A merged view follows at most this many streams (each one subscription, and one viewer of it).
MAX_MERGED_STREAMS = 8
# An address may repeat a stream (in another case, or by its other key): it names one stream each time.
# Past this many parts it is refused unread, so a huge address costs nothing to answer.
MAX_ADDRESS_PARTS = 100
SEPARATOR = "+"
# How much of a key names it in a page (a row's mark, `?hide_stream=`) at least: more when two keys of
# one view start alike (`short_keys`).
SHORT_KEY_CHARS = 8
_SHORT_KEY = re.compile(rf"[0-9a-f]{{{SHORT_KEY_CHARS}}}[0-9a-f-]{{0,{36 - SHORT_KEY_CHARS}}}")
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


def short_keys(keys: list[str]) -> list[str]:
    """The names of a page's streams (`keys`, distinct): the first characters of each key, as many for all
    (at least `SHORT_KEY_CHARS`) as it takes to tell them apart."""
    length, longest = SHORT_KEY_CHARS, max((len(key) for key in keys), default=0)
    while length < longest and len({key[:length] for key in keys}) < len(keys):
        length += 1
    return [key[:length] for key in keys]


def is_short_key(text: str) -> bool:
    """True for what `short_keys` gives (the start of a lower-case key), or a link may name a stream by."""
    return _SHORT_KEY.fullmatch(text) is not None


def named_streams(names: Iterable[str], keys: list[str]) -> list[str]:
    """The `short_keys` of the streams of `keys` that `names` (starts of keys, from a link) name; a name
    that starts more than one key (an 8-character link to two keys alike) names none of them."""
    shorts = short_keys(keys)
    named = []
    for name in names:
        starting = [short for key, short in zip(keys, shorts, strict=True) if key.startswith(name)]
        if len(starting) == 1:
            named.append(starting[0])
    return list(dict.fromkeys(named))


def page_streams(keys: list[str]) -> list[dict[str, str | bool]]:
    """What a page tells its browser of each of its streams: its name (`short_keys`), the view key its label
    is kept under (this browser's name for it), and whether it is read-only.

    Never a write key it was not given: a view key's stream is named by view keys alone.
    """
    return [{"short": short, "label_key": view_key(key), "read_only": is_view_key(key)}
            for key, short in zip(keys, short_keys(keys), strict=True)]


def keys_in_text(text: str) -> list[str]:
    """The stream keys in pasted text (a page or POST URL, a merged view's URL, a bare key), lower-case, in order."""
    return list(dict.fromkeys(match.lower() for match in _KEY_IN_TEXT.findall(text[:4096])))
