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
_CONTAINER_BYTES = 64
_STRING_BYTES = 50
_VALUE_BYTES = 36

# The names almost every entry carries, as written in lower and upper case: one lookup, no parsing.
_KNOWN_LEVELS = {
    spelling: canonical
    for name, canonical in [*((level.lower(), level) for level in STANDARD_LEVELS), *LEVEL_ALIASES.items()]
    for spelling in (name, name.upper())
}


class InvalidEntry(ValueError):
    """An entry that cannot be accepted; the message says why, for the client."""


# Entries are named tuples rather than frozen dataclasses: as immutable, and made in half the time
# (a frozen dataclass sets each field through object.__setattr__), which counts on every POST.
class LogEntry(NamedTuple):
    """One validated log line."""

    message: str
    timestamp: float  # seconds since the epoch, UTC
    level: str = DEFAULT_LEVEL
    program: str = DEFAULT_PROGRAM
    fields: JsonObject | None = None

    def memory_size(self) -> int:
        """About how many bytes of memory the entry takes, to keep buffers and buses within bounds."""
        size = _ENTRY_OVERHEAD_BYTES + sys.getsizeof(self.message) + sys.getsizeof(self.program)
        if self.fields:
            # As Python objects: their text, plus about 64 bytes for each list or dict beyond its
            # brackets (an empty list is 3 bytes of JSON, 56 in memory), 50 for each string and 36
            # for each value (its object and its slot): numbers are 28-byte objects.
            encoded = orjson.dumps(self.fields)
            size += (len(encoded) + _CONTAINER_BYTES * (encoded.count(b"[") + encoded.count(b"{"))
                     + _STRING_BYTES * (encoded.count(b'"') // 2) + _VALUE_BYTES * encoded.count(b","))
        return size

    def to_dict(self) -> JsonObject:
        """The entry as plain JSON-ready data."""
        data: JsonObject = {
            "ts": self.timestamp,
            "level": self.level,
            "program": self.program,
            "message": self.message,
        }
        if self.fields:
            data["fields"] = self.fields
        return data

    @classmethod
    def from_dict(cls, data: JsonObject) -> LogEntry:
        """Rebuild an entry written by `to_dict` (trusted data, not validated again)."""
        return cls(
            message=data["message"],
            timestamp=data["ts"],
            level=data["level"],
            program=data["program"],
            fields=data.get("fields"),
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
