"""Entries as the server will accept them: clients shorten and convert, so that a batch is never refused."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..protocol import (
    HIGHEST_LEVEL_NUMBER,
    JSON_INTEGER_RANGE,
    LOWEST_LEVEL_NUMBER,
    MAX_BODY_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_PROGRAM_CHARS,
    is_level_name,
)

_MAX_DEPTH = 8
_MAX_REPR_CHARS = 2000
# One entry's JSON at most: alone in a batch, with the batch's brackets, it is a body the server takes.
MAX_ENTRY_BYTES = MAX_BODY_BYTES - 1024


def encode_entry(message: str, *, level: str | int, program: str, timestamp: float,
                 fields: dict[str, Any] | None = None) -> bytes:
    """One entry as JSON bytes, within every server limit."""
    entry: dict[str, Any] = {
        "message": fit_message(shown(message)),
        "level": fit_level(level),
        "program": shown(program[:MAX_PROGRAM_CHARS]) or "python",
        "timestamp": timestamp,
    }
    if fields:
        entry["fields"] = jsonable(fields)
    encoded = _utf8(json.dumps(entry, ensure_ascii=False, allow_nan=False))
    if len(encoded) > MAX_ENTRY_BYTES:  # fields too large for any body (a megabyte in one `extra=` value)
        encoded = _with_fields_cut(entry, len(encoded))
    return encoded


# Texts in fields are cut to the first of these lengths (in characters) that makes the entry fit.
_FIELD_TEXT_CUTS = (65536, 16384, 4096, 1024, 256)


def _with_fields_cut(entry: dict[str, Any], size: int) -> bytes:
    """`entry` (JSON-ready, `size` bytes as JSON) made to fit: its fields' long texts cut, each saying so; or,
    if the fields are too large even so (a list of a million numbers), one field `cut`: the start of their
    JSON text, marked."""
    texts = [(text, _json_size(text)) for text in _long_texts(entry["fields"], _FIELD_TEXT_CUTS[-1])]
    for most in _FIELD_TEXT_CUTS:
        # A cut that would not save enough is not tried: each try writes the whole entry again, in the
        # thread that logs. What it saves is reckoned in bytes of JSON (an escaped quote takes 2, an emoji
        # 4, a control character 6), of what it cuts off.
        saved = sum(whole - _json_size(text[:most]) for text, whole in texts if len(text) > most)
        if not saved or size - saved > MAX_ENTRY_BYTES:
            continue
        encoded = _utf8(json.dumps({**entry, "fields": _texts_cut(entry["fields"], most)},
                                   ensure_ascii=False, allow_nan=False))
        if len(encoded) <= MAX_ENTRY_BYTES:
            return encoded
    fields_text = json.dumps(entry["fields"], ensure_ascii=False, allow_nan=False)
    whole = len(fields_text.encode(errors="replace"))
    keep = MAX_ENTRY_BYTES - len(_utf8(json.dumps({**entry, "fields": {}}, ensure_ascii=False))) - 100
    while True:  # JSON escapes some of what it keeps again (a quote takes two bytes): smaller until it fits
        head = _PARTIAL_ESCAPE.sub("", fields_text[:max(keep, 0)])
        cut = {"cut": f"{head} … [fields cut: the first {len(head.encode(errors='replace')):,} of {whole:,} "
                      "bytes of their JSON]"}
        encoded = _utf8(json.dumps({**entry, "fields": cut}, ensure_ascii=False, allow_nan=False))
        if len(encoded) <= MAX_ENTRY_BYTES or keep <= 0:
            return encoded
        keep = keep * 3 // 4


# The end of a JSON text cut inside an escape (`\u00`, `\`): left out, so that the cut reads cleanly.
_PARTIAL_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{0,3})?$")


def _json_size(text: str) -> int:
    """The bytes `text` takes as a JSON string."""
    return len(_utf8(json.dumps(text, ensure_ascii=False)))


def _long_texts(value: Any, longer_than: int) -> list[str]:
    """The texts in `value` (JSON-ready) longer than `longer_than` characters."""
    if isinstance(value, str):
        return [value] if len(value) > longer_than else []
    if isinstance(value, dict):
        return [text for item in value.values() for text in _long_texts(item, longer_than)]
    if isinstance(value, list):
        return [text for item in value for text in _long_texts(item, longer_than)]
    return []


def _texts_cut(value: Any, most: int) -> Any:
    """`value` (JSON-ready) with each text longer than `most` characters cut to them, and marked."""
    if isinstance(value, str):
        return value if len(value) <= most else f"{value[:most]} … [cut {len(value) - most:,} characters]"
    if isinstance(value, dict):
        return {key: _texts_cut(item, most) for key, item in value.items()}
    if isinstance(value, list):
        return [_texts_cut(item, most) for item in value]
    return value


def _integer_text(value: int) -> str:
    """An integer beyond JSON's range as text (Python writes at most 4,300 digits of one)."""
    try:
        return str(value)
    except ValueError:
        return f"<an integer of about {int(value.bit_length() * math.log10(2)) + 1:,} digits>"


# A lone surrogate: how Python decodes bytes that are not UTF-8 in file names and the environment.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def shown(text: str) -> str:
    """`text` with each lone surrogate, which UTF-8 cannot carry, as Python shows it: `\\udce9`."""
    if text.isascii() or not _LONE_SURROGATE.search(text):
        return text
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _utf8(json_text: str) -> bytes:
    """JSON text as UTF-8 (a lone surrogate that got past `shown`, as `shown` writes it)."""
    try:
        return json_text.encode()
    except UnicodeEncodeError:  # they are only ever in strings, where `\\` and `u` make a valid JSON string
        return _LONE_SURROGATE.sub(lambda match: f"\\\\u{ord(match.group()):04x}", json_text).encode()


def fit_message(message: str) -> str:
    """A message the server takes: never empty, at most 64 KiB of UTF-8 (longer ones are cut and marked)."""
    if not message:
        return "(empty message)"
    if len(message) * 4 <= MAX_MESSAGE_BYTES:
        return message
    encoded = message.encode(errors="replace")
    if len(encoded) <= MAX_MESSAGE_BYTES:
        return message
    marker = f" … [cut {len(encoded) - MAX_MESSAGE_BYTES + 64:,} bytes]"
    return encoded[:MAX_MESSAGE_BYTES - 64].decode(errors="ignore") + marker


def fit_level(level: str | int) -> str | int:
    """A level the server takes: a valid name as it is, a number within 0-50, anything else INFO."""
    if isinstance(level, str) and is_level_name(level):
        return level
    if isinstance(level, int):
        return min(max(level, LOWEST_LEVEL_NUMBER), HIGHEST_LEVEL_NUMBER)
    return "INFO"


def jsonable(value: Any, depth: int = 0) -> Any:
    """`value` as plain JSON the server accepts; anything else becomes its (shortened) repr."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, int):
        return value if JSON_INTEGER_RANGE[0] <= value <= JSON_INTEGER_RANGE[1] else _integer_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth < _MAX_DEPTH:
        if isinstance(value, dict):
            return {shown(str(key)): jsonable(item, depth + 1) for key, item in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [jsonable(item, depth + 1) for item in value]
    try:
        text = repr(value)
    except Exception as error:  # a broken __repr__ must not lose the line
        text = f"<unrepresentable {type(value).__name__}: {error!r}>"
    return text[:_MAX_REPR_CHARS]
