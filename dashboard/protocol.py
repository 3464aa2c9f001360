"""The facts of the BunnyLogs protocol, one copy for the server and the clients alike.

Level names, aliases and ranks; the forms of a stream ID and an entry ID; a stream's view key; the
limits of an entry, a batch and a body. `dashboard.client` imports this module, so it imports nothing outside the
standard library (a test checks it).
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid

# --- levels ---------------------------------------------------------------------------------------
DEFAULT_LEVEL = "INFO"
DEFAULT_PROGRAM = "api"
STANDARD_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LEVEL_ALIASES = {"warn": "WARNING", "fatal": "CRITICAL", "crit": "CRITICAL", "err": "ERROR", "dbg": "DEBUG"}
# Python logging's numbers; a number maps to the highest level not above it. TRACE and NOTICE are
# not standard, but common enough (syslog, many loggers) that filters rank them where users expect.
LEVEL_RANKS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "NOTICE": 25, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
LOWEST_LEVEL_NUMBER, HIGHEST_LEVEL_NUMBER = 0, 50
MAX_LEVEL_CHARS = 20
_LEVEL_NAME = re.compile(rf"[A-Za-z][A-Za-z0-9_-]{{0,{MAX_LEVEL_CHARS - 1}}}")
_NUMBERED_LEVELS = tuple((LEVEL_RANKS[name], name) for name in reversed(STANDARD_LEVELS))

# --- IDs --------------------------------------------------------------------------------------------
# A stream is named by a UUID; the canonical form is lower-case hex, 8-4-4-4-12. Addresses take any
# case (macOS `uuidgen` prints upper case) and mean the stream of the lower-case form.
STREAM_ID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
STREAM_ID_ANY_CASE_PATTERN = STREAM_ID_PATTERN.replace("a-f", "a-fA-F")
_STREAM_ID = re.compile(STREAM_ID_PATTERN)
_STREAM_ID_CHARS = 36
_STREAM_ID_ANY_CASE = re.compile(STREAM_ID_ANY_CASE_PATTERN)
# An entry ID is `<milliseconds>-<sequence>` (as Redis Streams number entries), each part a 64-bit
# unsigned integer; `<milliseconds>` alone means sequence 0.
_ENTRY_ID = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?")
MAX_ENTRY_ID_PART = 2**64 - 1
# What a follower is told when it resumes after an entry newer than its stream's newest (`Bus.subscribe`): the
# stream lost its entries since, and every one it holds is new to the follower, whatever its ID.
RESUMED_FROM_START_NOTICE = ("the line this follower resumes after is newer than any this stream holds (the server "
                             "lost its lines, or its clock went back): every line it keeps follows, from the oldest")

# --- keys ------------------------------------------------------------------------------------------
# The UUID in a stream's address is a key. A write key (any UUID but version 8) reads and sends; its
# view key, derived from it by a one-way hash, only reads. A view key is a version-8 UUID (RFC 9562):
# the first 16 bytes of sha256(VIEW_KEY_CONTEXT + the write key in canonical form), with the version
# and variant bits set. Anyone can derive it, nobody can go back, and no server state is involved.
VIEW_KEY_CONTEXT = b"bunnylogs view key\x00"
VIEW_KEY_VERSION = 8
_VERSION_DIGIT = 14  # the index of the version's hex digit in a canonical UUID
_VIEW_KEY_DIGIT = str(VIEW_KEY_VERSION)

# --- batches ----------------------------------------------------------------------------------------
# A client may name each POST with this header, and keep the name across its retries of that POST:
# a repeat within BATCH_KEY_SECONDS is answered as the first was, and stores nothing again.
BATCH_KEY_HEADER = "Idempotency-Key"
BATCH_KEY_SECONDS = 600
BATCH_KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
BATCH_KEY_RULE = "1 to 128 letters, digits, '.', '_', ':' or '-'"

# --- limits -----------------------------------------------------------------------------------------
MAX_BODY_BYTES = 1024 * 1024
MAX_MESSAGE_BYTES = 64 * 1024
MAX_BATCH_ENTRIES = 1000
MAX_PROGRAM_CHARS = 100
# The longest text filter, on the page and in `/entries?q=` (a pattern is compiled for every request).
MAX_FILTER_CHARS = 500
# The server's JSON parser takes integers in this range only.
JSON_INTEGER_RANGE = (-(2**63), 2**64 - 1)
# How deeply `fields` may nest objects and arrays (JSON serialisers stop at a few hundred).
MAX_FIELDS_DEPTH = 32
# Timestamps an entry may carry: from the epoch to the start of year 9999 (UTC), so that every
# one also has a date in any local time zone.
EARLIEST_TIMESTAMP = 0.0
LATEST_TIMESTAMP = 253370764800.0  # 9999-01-01T00:00:00Z


class InvalidLevel(ValueError):
    """A value that names no level; the message says what a level may be."""


def is_level_name(text: str) -> bool:
    """True for a name a level may have: a letter, then letters, digits, `_` or `-`, at most 20 in all."""
    return _LEVEL_NAME.fullmatch(text) is not None


def canonical_level(value: object) -> str:
    """A level name or number as its canonical upper-case name.

    `warn` → WARNING, `fatal` → CRITICAL, numbers 0-50 → the Python logging name at or below them;
    other names (e.g. `trace`) are kept, in upper case. Raise `InvalidLevel` for anything else.
    """
    if value is None or value == "":
        return DEFAULT_LEVEL
    if isinstance(value, bool):
        raise InvalidLevel("level must be a name or a number, not a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return level_from_number(value)
    if isinstance(value, float):  # 25.5 was refused as if it were no number
        raise InvalidLevel(f"a numeric level must be a whole number from {LOWEST_LEVEL_NUMBER} to "
                           f"{HIGHEST_LEVEL_NUMBER}, got {value!r:.20}")
    if not isinstance(value, str):
        raise InvalidLevel("level must be a name or a number")
    text = value.strip()
    if text.isascii() and text.isdigit():
        return level_from_number(_small_number(text))
    if (alias := LEVEL_ALIASES.get(text.lower())) is not None:
        return alias
    if not is_level_name(text):
        raise InvalidLevel(
            f"level must be a name like INFO or WARNING (letters, digits, _ or -, at most {MAX_LEVEL_CHARS} "
            f"characters) or a number from {LOWEST_LEVEL_NUMBER} to {HIGHEST_LEVEL_NUMBER}, got {value[:40]!r}")
    return text.upper()


def level_from_number(number: int) -> str:
    """The Python logging level name at or below `number` (0-50)."""
    if not LOWEST_LEVEL_NUMBER <= number <= HIGHEST_LEVEL_NUMBER:
        shown = number if abs(number) < 10**6 else "a larger number"
        raise InvalidLevel(f"a numeric level must be between {LOWEST_LEVEL_NUMBER} and {HIGHEST_LEVEL_NUMBER}, "
                           f"got {shown}")
    return next((name for threshold, name in _NUMBERED_LEVELS if number >= threshold), STANDARD_LEVELS[0])


def level_threshold(value: str) -> int:
    """The lowest rank a "this level and above" filter keeps, from a level that has a rank or a number 0-50.

    `warn` → 30, `trace` → 5, `25` → 25. A name without a rank (a custom level, a typo) is refused.
    """
    text = value.strip()
    if text.isascii() and text.isdigit():
        level_from_number(number := _small_number(text))  # refuses numbers out of range
        return number
    name = canonical_level(text) if text else ""
    if name not in LEVEL_RANKS:
        known = ", ".join(LEVEL_RANKS)
        raise InvalidLevel(f"{value[:40]!r} is not a level with a rank; use one of {known} (or warn, err, fatal), "
                           f"or a number from {LOWEST_LEVEL_NUMBER} to {HIGHEST_LEVEL_NUMBER}")
    return LEVEL_RANKS[name]


def _small_number(digits: str) -> int:
    """ASCII digits as a number, refusing ones too long to be a level before converting them."""
    if len(digits) > 6:
        raise InvalidLevel(f"a numeric level must be between {LOWEST_LEVEL_NUMBER} and {HIGHEST_LEVEL_NUMBER}, "
                           f"got {digits[:40]!r}")
    return int(digits)


def level_rank(level: str) -> int:
    """How severe a level name is (in any case); names without a rank count as INFO."""
    return LEVEL_RANKS.get(level.upper(), LEVEL_RANKS[DEFAULT_LEVEL])


def is_stream_id(text: str) -> bool:
    """True for a stream ID in canonical form (a lower-case UUID)."""
    return _STREAM_ID.fullmatch(text) is not None


def canonical_stream_id(text: str) -> str | None:
    """The stream ID that `text` names (a UUID in any case, as lower case), or None."""
    # Asked on every POST, mostly for the same few streams; only text of a UUID's length is cached,
    # so that junk paths (any length, from anyone) cannot fill the cache with megabytes.
    return _canonical_stream_id(text) if len(text) == _STREAM_ID_CHARS else None


@functools.lru_cache(maxsize=4096)
def _canonical_stream_id(text: str) -> str | None:
    return text.lower() if _STREAM_ID_ANY_CASE.fullmatch(text) is not None else None


def is_view_key(stream_id: str) -> bool:
    """True for a stream ID that is a view (read-only) key: a canonical UUID of version 8."""
    # The version digit first: most keys asked about are write keys, and it is cheaper than the match.
    return stream_id[_VERSION_DIGIT:_VERSION_DIGIT + 1] == _VIEW_KEY_DIGIT and is_stream_id(stream_id)


@functools.lru_cache(maxsize=4096)  # a busy stream's every POST asks again
def view_key(stream_id: str) -> str:
    """The view (read-only) key of a stream ID: derived from a write key; a view key is its own."""
    if not is_stream_id(stream_id):
        raise ValueError(f"a view key is derived from a stream ID in canonical form, not {stream_id[:40]!r}")
    if is_view_key(stream_id):
        return stream_id
    key = bytearray(hashlib.sha256(VIEW_KEY_CONTEXT + stream_id.encode("ascii")).digest()[:16])
    key[6] = key[6] & 0x0F | VIEW_KEY_VERSION << 4  # the version, in the high half of byte 6
    key[8] = key[8] & 0x3F | 0x80  # the RFC 9562 variant: the top bits of byte 8 are 10
    return str(uuid.UUID(bytes=bytes(key)))


def bus_stream_id(stream_id: str) -> str:
    """The name the bus keeps a stream under, whichever of its keys names it: its view key.

    Every read and write goes through here, so the bus never sees, or stores, a write key.
    """
    return view_key(stream_id)


def is_entry_id(text: str) -> bool:
    """True for an entry ID, `<ms>-<seq>` or just `<ms>`, each part within 64 bits."""
    match = _ENTRY_ID.fullmatch(text)
    return match is not None and int(match[1]) <= MAX_ENTRY_ID_PART and int(match[2] or 0) <= MAX_ENTRY_ID_PART


def entry_id_order(entry_id: str) -> tuple[int, int]:
    """`'1700000000000-3'` → `(1700000000000, 3)`, which orders like the stream (for a checked ID)."""
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


# A terminal escape sequence, as the page drops it from what it shows and searches (ESCAPE_SEQUENCE in
# dashboard/elements/log_text.js): ESC and a CSI sequence, a string sequence ended by BEL or ST, or a short one.
_ESCAPE_SEQUENCES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]+[0-~]"
                               r"|[0-OQ-WYZ\\`-~])")


def shown_message(message: str) -> str:
    """A message as the page shows it, and as filters search it: without its colour codes and other escape sequences."""
    return _ESCAPE_SEQUENCES.sub("", message) if "\x1b" in message else message
