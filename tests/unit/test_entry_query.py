"""The filters of /entries read from a URL, and moments as people write them (`15m`, ISO 8601)."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from starlette.datastructures import QueryParams

from dashboard.entry import LogEntry
from dashboard.entry_query import MAX_PROGRAMS, EntryQuery, QueryError, parse_entry_query, searched_text
from dashboard.protocol import MAX_FILTER_CHARS
from dashboard.time_bounds import InvalidMoment, iso_utc, parse_moment

NOW = 1_800_000_000.0


@pytest.mark.parametrize(("text", "seconds_ago"), [
    ("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400), ("0s", 0), (" 15m ", 900),
    ("999999999d", 999999999 * 86400),
])
def test_a_duration_ago(text: str, seconds_ago: int) -> None:
    assert parse_moment(text, now=NOW) == NOW - seconds_ago


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T10:00:00Z", dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)),
    ("2026-11-25T10:00:00.123+01:00", dt.datetime(2026, 11, 25, 9, 0, 0, 123000, tzinfo=dt.UTC)),
    ("2026-11-25T10:00:00", dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)),  # no offset: UTC
    ("2026-11-25", dt.datetime(2026, 11, 25, tzinfo=dt.UTC)),
    ("2026", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),  # a year, a month: their first moment
    ("2026-11", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
])
def test_an_iso_moment(text: str, expected: dt.datetime) -> None:
    assert parse_moment(text, now=NOW) == expected.timestamp()


@pytest.mark.parametrize("text", ["15", "15 m", "15min", "-5m", "1.5h", "yesterday", "", "2026-13-01",
                                  "\uff12\uff10\uff12\uff16-11-25", "1" * 10 + "s", "2026-13", "0000",
                                  "1" * 5000, "2026-11-25T10:00:00.123456789012345678901Z"])
def test_what_is_not_a_moment_is_refused_with_the_rule(text: str) -> None:
    with pytest.raises(InvalidMoment, match="is not a time: use ISO 8601"):
        parse_moment(text, now=NOW)


@pytest.mark.parametrize("seconds", [0.0, 1_795_576_219.554321, NOW])
def test_iso_utc_reads_back_exactly(seconds: float) -> None:
    assert parse_moment(iso_utc(seconds), now=0) == seconds


def test_iso_utc_of_a_moment_beyond_the_calendar_is_its_first_or_last_day() -> None:
    assert iso_utc(parse_moment("999999999d", now=NOW)) == "0001-01-01T00:00:00Z"
    assert iso_utc(1e20) == "9999-12-31T23:59:59Z"


def query(text: str, now: float = NOW) -> EntryQuery:
    return parse_entry_query(QueryParams(text), now=now)


def entry(message: str = "disk full", *, level: str = "INFO", program: str = "api", ts: float = NOW,
          fields: dict | None = None) -> LogEntry:
    return LogEntry(message=message, timestamp=ts, level=level, program=program,
                    fields_json=orjson.dumps(fields) if fields else None)


def test_no_filter_wants_everything() -> None:
    parsed = query("limit=5&after=0&re=1&not=0")
    assert parsed.wants_everything and parsed.matches(entry())


@pytest.mark.parametrize(("level", "shown"), [
    ("warn", {"WARNING", "ERROR", "CRITICAL"}), ("30", {"WARNING", "ERROR", "CRITICAL"}),
    ("err", {"ERROR", "CRITICAL"}),
    ("trace", {"TRACE", "DEBUG", "INFO", "CUSTOM", "NOTICE", "WARNING", "ERROR", "CRITICAL"}),
    ("notice", {"NOTICE", "WARNING", "ERROR", "CRITICAL"}),
])
def test_level_is_a_minimum_as_tail_reads_it(level: str, shown: set[str]) -> None:
    parsed = query(f"level={level}")
    levels = ["TRACE", "DEBUG", "INFO", "CUSTOM", "NOTICE", "WARNING", "ERROR", "CRITICAL"]
    assert {name for name in levels if parsed.matches(entry(level=name))} == shown


def test_text_is_case_insensitive_and_searches_the_fields_too() -> None:
    parsed = query("q=ORDER 42")
    assert parsed.matches(entry("Order 42 paid"))
    assert not parsed.matches(entry("order 43 paid"))
    assert query('q="order":42').matches(entry("paid", fields={"order": 42}))
    assert searched_text(entry("paid", fields={"order": 42, "ok": True})) == 'paid {"order":42,"ok":true}'


def test_text_is_searched_as_the_page_shows_it_without_colour_codes() -> None:
    coloured = entry("\x1b[31mERROR\x1b[0m disk full \x1b]8;;http://x\x07link\x1b]8;;\x07")
    assert query("q=ERROR disk full").matches(coloured)
    assert query("q=^error disk full link$&re=1").matches(coloured)
    assert not query("q=31m").matches(coloured)


def test_a_regex_is_case_insensitive_and_not_inverts_the_text_test() -> None:
    assert query("q=^disk (full|slow)$&re=1").matches(entry("Disk FULL"))
    assert not query("q=^disk (full|slow)$&re=1").matches(entry("disk ok"))
    assert query("q=disk&not=1").matches(entry("cpu hot"))
    assert not query("q=disk&not=1").matches(entry("disk full"))
    assert query("q=a.c").matches(entry("a.c")) and not query("q=a.c").matches(entry("abc")), "q alone is text"


def test_programs_and_the_time_range() -> None:
    parsed = query("program=web&program=db&since=2026-11-25T10:00:00Z&until=2026-11-25T11:00:00Z")
    start = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC).timestamp()
    assert parsed.matches(entry(program="db", ts=start)), "since is inclusive"
    assert not parsed.matches(entry(program="db", ts=start + 3600)), "until is exclusive"
    assert not parsed.matches(entry(program="cron", ts=start + 1))
    assert not parsed.matches(entry(program="web", ts=start - 0.001))
    assert query("since=15m").since == NOW - 900


@pytest.mark.parametrize(("text", "detail"), [
    ("q=" + "x" * (MAX_FILTER_CHARS + 1), f"q must be at most {MAX_FILTER_CHARS} characters"),
    ("q=(a&re=1", "q is not a regular expression RE2 accepts (missing )"),
    ("q=(a)\\1&re=1", "q is not a regular expression RE2 accepts"),
    ("q=(?<=a)b&re=1", "q is not a regular expression RE2 accepts"),
    ("q=((a{100}){100}){100}&re=1", "q is not a regular expression RE2 accepts"),
    ("q=[^c]{1000}c&re=1", "q is too large a regular expression to search a stream with (RE2 program size 9005"),
    ("q=((a|b){30}){30}c&re=1", "q is too large a regular expression"),
    ("re=maybe", "re must be 1 or 0"),
    ("not=2", "not must be 1 or 0"),
    ("level=loud", "level: 'loud' is not a level with a rank"),
    ("level=99", "level: a numeric level must be between 0 and 50"),
    ("since=15", "since: '15' is not a time"),
    ("until=tomorrow", "until: 'tomorrow' is not a time"),
    ("since=1h&until=2h", "since must be earlier than until"),
    ("&".join(f"program=p{i}" for i in range(MAX_PROGRAMS + 1)), f"program may be given at most {MAX_PROGRAMS}"),
    ("program=" + "p" * 101, "program must be at most 100 characters"),
])
def test_bad_filters_name_their_parameter(text: str, detail: str) -> None:
    with pytest.raises(QueryError) as raised:
        query(text)
    assert str(raised.value).startswith(detail)
