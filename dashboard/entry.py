"""The log entry: what ingest accepts, the bus stores and viewers receive."""

from __future__ import annotations

import math
import sys
from typing import Any, NamedTuple

import orjson

from .protocol import DEFAULT_LEVEL, DEFAULT_PROGRAM, LEVEL_ALIASES, STANDARD_LEVELS, InvalidLevel, canonical_level

JsonObject = dict[str, Any]
# What an entry costs beyond its strings: its two objects, its ID string and a container slot.
_ENTRY_OVERHEAD_BYTES = 300

# The names almost every entry carries, as written in lower and upper case: one lookup, no parsing.
_KNOWN_LEVELS = {
    spelling: canonical
    for name, canonical in [*((level.lower(), level) for level in STANDARD_LEVELS), *LEVEL_ALIASES.items()]
    for spelling in (name, name.upper())
}


def json_text(value: object) -> bytes:
    """`value` as compact JSON text, in a bytes object of its own size, to keep.

    `orjson.dumps` returns its whole working buffer, at least 4 KiB: 100,000 kept results of `{"a": 1}`
    held 393 MB. Raises `orjson.JSONEncodeError` as it does.
    """
    return bytes(memoryview(orjson.dumps(value)))


def memory_size_of(message: str, program: str, fields_json: bytes | None) -> int:
    """`LogEntry.memory_size` of an entry with these texts."""
    size = _ENTRY_OVERHEAD_BYTES + sys.getsizeof(message) + sys.getsizeof(program)
    return size + sys.getsizeof(fields_json) if fields_json else size


class InvalidEntry(ValueError):
    """An entry that cannot be accepted; the message says why, for the client."""


# Entries are named tuples rather than frozen dataclasses: as immutable, and made in half the time
# (a frozen dataclass sets each field through object.__setattr__), which counts on every POST.
class LogEntry(NamedTuple):
    """One validated log line.

    Its fields are kept as their compact JSON text, not as Python objects: one body's fields may be
    350,000 empty lists, which Python's garbage collector walked again and again for as long as the
    bus kept the entry (collections of 200 ms every second or so under a few such posts a second).
    Text is one object the collector never walks, some 20 times smaller, and goes to viewers as it is.
    """

    message: str
    timestamp: float  # seconds since the epoch, UTC
    level: str = DEFAULT_LEVEL
    program: str = DEFAULT_PROGRAM
    fields_json: bytes | None = None  # a JSON object with at least one key, as `orjson.dumps` writes it

    def fields(self) -> JsonObject | None:
        """The fields as Python objects (parsed anew on each call)."""
        return orjson.loads(self.fields_json) if self.fields_json else None

    def memory_size(self) -> int:
        """About how many bytes of memory the entry takes, to keep buffers and buses within bounds."""
        return memory_size_of(self.message, self.program, self.fields_json)

    def to_dict(self) -> JsonObject:
        """The entry as data for `orjson.dumps` (its fields are an `orjson.Fragment`: their text, as it is)."""
        data: JsonObject = {
            "ts": self.timestamp,
            "level": self.level,
            "program": self.program,
            "message": self.message,
        }
        if self.fields_json:
            data["fields"] = orjson.Fragment(self.fields_json)
        return data

    @classmethod
    def from_dict(cls, data: JsonObject) -> LogEntry:
        """Rebuild an entry from `to_dict`'s JSON, parsed (trusted data, not validated again)."""
        fields = data.get("fields")
        return cls(
            message=data["message"],
            timestamp=data["ts"],
            level=data["level"],
            program=data["program"],
            fields_json=json_text(fields) if fields else None,
        )


class StreamEntry(NamedTuple):
    """An entry as stored on a stream, with the ID the bus gave it."""

    id: str
    entry: LogEntry

    def to_wire(self) -> JsonObject:
        """The entry as sent to viewers: its data plus its ID."""
        data = self.entry.to_dict()
        data["id"] = self.id
        return data


def normalize_level(value: object) -> str:
    """A level name or number as its canonical name (see `protocol.canonical_level`), or `InvalidEntry`."""
    if isinstance(value, str) and (known := _KNOWN_LEVELS.get(value)) is not None:
        return known
    try:
        return canonical_level(value)
    except InvalidLevel as error:
        raise InvalidEntry(str(error)) from None


def is_finite_number(value: object) -> bool:
    """True for an int or float that is not a boolean, NaN or infinite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def within_bytes(entries: list[StreamEntry], budget: int, *, keep_newest: bool) -> list[StreamEntry]:
    """The newest (or oldest) of `entries` that together take at most `budget` bytes; at least one."""
    ordered = reversed(entries) if keep_newest else iter(entries)
    kept = 0
    size = 0
    for stream_entry in ordered:
        size += stream_entry.entry.memory_size()
        if size > budget and kept:
            break
        kept += 1
    if kept == len(entries):
        return entries
    return entries[len(entries) - kept:] if keep_newest else entries[:kept]
