"""Moments as people write them in a time filter: ISO 8601, or a duration ago like `15m`.

Used by `/entries?since=&until=` and by `bunnylogs tail --since/--until`, so standard library only
(`dashboard.client` imports it).
"""

from __future__ import annotations

import datetime as dt
import re

# A duration ago: a whole number and one unit. A bare number is refused: `15` could mean minutes or
# an epoch second, and a filter that silently means the wrong one shows nothing.
_DURATION_AGO = re.compile(r"([0-9]{1,9})([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# ISO 8601's moments of reduced precision, which `fromisoformat` refuses: a year (`2026`), a month (`2026-11`).
_YEAR_OR_MONTH = re.compile(r"([0-9]{4})(?:-([0-9]{2}))?")
# The longest moment written in full is 32 characters (2026-11-25T10:00:00.123456+05:30): `fromisoformat`
# read 5,000 ones as 1111-11-11T11:11:11.111111.
_MAX_MOMENT_CHARS = 40
# What a datetime can hold: the first and the last second of the calendar (years 1 to 9999, UTC).
_FIRST_SECOND, _LAST_SECOND = -62135596800, 253402300799
MOMENT_RULE = "ISO 8601 (2026-11-25T10:00:00Z; no offset means UTC) or a duration ago like 30s, 15m, 2h or 1d"


class InvalidMoment(ValueError):
    """Text that names no moment; the message says what a moment may be."""


def parse_moment(text: str, *, now: float) -> float:
    """Epoch seconds from ISO 8601 (UTC without an offset) or a duration before `now` (`30s`, `15m`, `2h`, `1d`)."""
    value = text.strip()
    if (ago := _DURATION_AGO.fullmatch(value)) is not None:
        return now - int(ago[1]) * _UNIT_SECONDS[ago[2]]
    try:
        if not value.isascii() or len(value) > _MAX_MOMENT_CHARS:  # fromisoformat takes other scripts' digits
            raise ValueError
        if (start := _YEAR_OR_MONTH.fullmatch(value)) is not None:  # its first moment
            return dt.datetime(int(start[1]), int(start[2] or 1), 1, tzinfo=dt.UTC).timestamp()
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.timestamp()
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 pushed out of range by an offset
        raise InvalidMoment(f"{text[:40]!r} is not a time: use {MOMENT_RULE}") from None


def iso_utc(seconds: float) -> str:
    """Epoch seconds as ISO 8601 in UTC, as `parse_moment` reads it back exactly (to the microsecond).

    A moment before year 1 or after 9999 (`999999999d` ago) is the calendar's first or last second.
    """
    seconds = min(max(seconds, _FIRST_SECOND), _LAST_SECOND)
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")
