"""The filters of `/live/<uuid>/entries`: which entries a reader asked for, read from the URL and applied.

`?q=` text (case-insensitive, in the message and its fields, as the page's filter searches),
`&re=1` to read `q` as a regular expression, `&not=1` to invert the text test, `&level=` a minimum
level, `&program=` (repeatable), `&since=` / `&until=` on the entry's timestamp.

Regular expressions come from anyone who has a stream's link, so they run on RE2 (`google-re2`),
whose matching time is linear in the text: no pattern can make a search backtrack for ever.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import re2
from starlette.datastructures import QueryParams

from .entry import LogEntry
from .protocol import (
    MAX_FILTER_CHARS,
    MAX_PROGRAM_CHARS,
    InvalidLevel,
    level_rank,
    level_threshold,
    shown_message,
)
from .time_bounds import InvalidMoment, parse_moment

MAX_PROGRAMS = 50
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
# RE2 compiles within this much memory; a larger program is refused ("pattern too large").
_REGEX_MAX_MEMORY = 2 * 1024 * 1024
# The largest compiled pattern a search takes. Past it RE2's DFA no longer fits in `_REGEX_MAX_MEMORY`
# and it falls back to a slower engine: `[^c]{1000}c` (9,005) took a second per 60 KB line. Patterns
# people search logs with are tens of instructions.
MAX_REGEX_PROGRAM = 1000

# A regular expression is matched against a longer text than this off the event loop (`matches_off_loop`):
# a costly pattern that RE2's DFA outgrows takes about a second per MiB, and a single entry's match
# cannot be cut short. RE2 lets go of the GIL while it matches, so the process answers meanwhile.
OFF_LOOP_SEARCH_CHARS = 16 * 1024

TextTest = Callable[[str], bool]


class QueryError(ValueError):
    """A query parameter that cannot be used; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class EntryQuery:
    """Which entries a reader wants; the default wants every one."""

    text_test: TextTest | None = None
    invert: bool = False
    min_rank: int | None = None
    programs: frozenset[str] = frozenset()
    hidden_levels: frozenset[str] = frozenset()  # the page's level chips (not in the URL of /entries)
    since: float | None = None  # inclusive
    until: float | None = None  # exclusive
    regex: bool = False  # whether text_test is a regular expression's


    @property
    def wants_everything(self) -> bool:
        """Whether no filter is set (a page is then read as it is, without a scan)."""
        return self.text_test is None and self.min_rank is None and not self.programs and \
            not self.hidden_levels and self.since is None and self.until is None

    def matches(self, entry: LogEntry) -> bool:
        """Whether `entry` passes every filter."""
        if self.min_rank is not None and level_rank(entry.level) < self.min_rank:
            return False
        if entry.level in self.hidden_levels:
            return False
        if self.programs and entry.program not in self.programs:
            return False
        if (self.since is not None and entry.timestamp < self.since) or \
                (self.until is not None and entry.timestamp >= self.until):
            return False
        if self.text_test is None:
            return True
        return self.text_test(searched_text(entry)) != self.invert

    def matches_off_loop(self, entry: LogEntry) -> bool:
        """Whether `matches(entry)` should run in a worker thread: a regular expression against a long text."""
        if not self.regex:
            return False
        if len(entry.message) > OFF_LOOP_SEARCH_CHARS:
            return True
        return entry.fields_json is not None and len(entry.fields_json) > OFF_LOOP_SEARCH_CHARS


def searched_text(entry: LogEntry) -> str:
    """What the text filter searches, as the page does: the message as shown (without its colour codes and
    other escape sequences), then the fields as compact JSON."""
    message = shown_message(entry.message)
    return f"{message} {entry.fields_json.decode()}" if entry.fields_json else message


def parse_entry_query(query: QueryParams, *, now: float | None = None) -> EntryQuery:
    """The filters named in a URL's query; raise `QueryError` naming the first parameter that is wrong."""
    now = time.time() if now is None else now
    since, until = _moment_param(query, "since", now), _moment_param(query, "until", now)
    if since is not None and until is not None and since >= until:
        raise QueryError("since must be earlier than until")
    text_test = _text_test(query)
    return EntryQuery(text_test=text_test, invert=_flag_param(query, "not"), min_rank=_level_param(query),
                      programs=_programs_param(query), since=since, until=until,
                      regex=text_test is not None and _flag_param(query, "re"))


def _text_test(query: QueryParams) -> TextTest | None:
    text = query.get("q", "")
    if len(text) > MAX_FILTER_CHARS:
        raise QueryError(f"q must be at most {MAX_FILTER_CHARS} characters, got {len(text)}")
    as_regex = _flag_param(query, "re")
    if not text:
        return None
    if not as_regex:
        needle = text.lower()
        return lambda haystack: needle in haystack.lower()
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # a bad pattern from a URL is the client's error, not a line in the server's log
    options.max_mem = _REGEX_MAX_MEMORY
    try:
        pattern = re2.compile(text, options)
    except re2.error as error:
        reason = error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) \
            else str(error)
        raise QueryError(f"q is not a regular expression RE2 accepts ({reason}); RE2 has no backreferences "
                         "or lookarounds") from None
    if pattern.programsize > MAX_REGEX_PROGRAM:
        raise QueryError(f"q is too large a regular expression to search a stream with (RE2 program size "
                         f"{pattern.programsize}, at most {MAX_REGEX_PROGRAM}): use fewer or smaller counted "
                         "repeats like {100}")
    return lambda haystack: pattern.search(haystack) is not None


def _flag_param(query: QueryParams, name: str) -> bool:
    value = query.get(name, "").strip().lower()
    if value not in _TRUE + _FALSE:
        raise QueryError(f"{name} must be 1 or 0, got {value[:40]!r}")
    return value in _TRUE


def _level_param(query: QueryParams) -> int | None:
    value = query.get("level", "")
    if not value:
        return None
    try:
        return level_threshold(value)
    except InvalidLevel as error:
        raise QueryError(f"level: {error}") from None


def _programs_param(query: QueryParams) -> frozenset[str]:
    programs = frozenset(program for program in query.getlist("program") if program)
    if len(programs) > MAX_PROGRAMS:
        raise QueryError(f"program may be given at most {MAX_PROGRAMS} times, got {len(programs)}")
    if any(len(program) > MAX_PROGRAM_CHARS for program in programs):
        raise QueryError(f"program must be at most {MAX_PROGRAM_CHARS} characters")
    return programs


def _moment_param(query: QueryParams, name: str, now: float) -> float | None:
    value = query.get(name, "")
    if not value:
        return None
    try:
        return parse_moment(value, now=now)
    except InvalidMoment as error:
        raise QueryError(f"{name}: {error}") from None
