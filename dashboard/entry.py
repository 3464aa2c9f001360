"""The log entry: what ingest accepts, the bus stores and viewers receive."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]

DEFAULT_LEVEL = "INFO"
DEFAULT_PROGRAM = "api"

STANDARD_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL_ALIASES = {
    "warn": "WARNING",
    "fatal": "CRITICAL",
    "crit": "CRITICAL",
    "err": "ERROR",
    "dbg": "DEBUG",
}
# Python logging's numbers, highest first: a number maps to the highest level not above it.
_LEVEL_THRESHOLDS = ((50, "CRITICAL"), (40, "ERROR"), (30, "WARNING"), (20, "INFO"), (0, "DEBUG"))
_CUSTOM_LEVEL = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,19}$")
# The names almost every entry carries, as written in lower and upper case: one lookup, no parsing.
_KNOWN_LEVELS = {
    spelling: canonical
    for name, canonical in [*((level.lower(), level) for level in STANDARD_LEVELS), *_LEVEL_ALIASES.items()]
    for spelling in (name, name.upper())
}


class InvalidEntry(ValueError):
    """An entry that cannot be accepted; the message says why, for the client."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One validated log line."""

    message: str
    timestamp: float  # seconds since the epoch, UTC
    level: str = DEFAULT_LEVEL
    program: str = DEFAULT_PROGRAM
    fields: JsonObject | None = field(default=None)

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


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """An entry as stored on a stream, with the ID the bus gave it."""

    id: str
    entry: LogEntry

    def to_wire(self) -> JsonObject:
        """The entry as sent to viewers: its data plus its ID."""
        data = self.entry.to_dict()
        data["id"] = self.id
        return data


def normalize_level(value: object) -> str:
    """Map a level name or number to its canonical upper-case name.

    `warn` → WARNING, `fatal` → CRITICAL, numbers 0-50 → the Python logging name at or below
    them; other names of letters, digits, `_` and `-` are kept in upper case (e.g. TRACE).
    """
    if value is None or value == "":
        return DEFAULT_LEVEL
    if isinstance(value, str) and (known := _KNOWN_LEVELS.get(value)) is not None:
        return known
    if isinstance(value, bool):
        raise InvalidEntry("level must be a name or a number, not a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return _level_from_number(value)
    if not isinstance(value, str):
        raise InvalidEntry("level must be a name or a number")
    text = value.strip()
    if text.isdigit():
        return _level_from_number(int(text))
    if text.lower() in _LEVEL_ALIASES:
        return _LEVEL_ALIASES[text.lower()]
    if not _CUSTOM_LEVEL.match(text):
        raise InvalidEntry(
            "level must be a name like INFO or WARNING (letters, digits, _ or -, "
            f"at most 20 characters) or a number from 0 to 50, got {value[:40]!r}"
        )
    return text.upper()


def is_level_name(text: str) -> bool:
    """True for a canonical or custom level name as `normalize_level` keeps it (letters, digits, `_`, `-`)."""
    return _CUSTOM_LEVEL.match(text) is not None


def _level_from_number(number: int) -> str:
    if not 0 <= number <= 50:
        raise InvalidEntry(f"a numeric level must be between 0 and 50, got {number}")
    return next(name for threshold, name in _LEVEL_THRESHOLDS if number >= threshold)


def is_finite_number(value: object) -> bool:
    """True for an int or float that is not a boolean, NaN or infinite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
