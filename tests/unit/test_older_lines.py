"""What a page may ask for when its reader scrolls up or searches everything kept, and the query its filter makes."""

from __future__ import annotations

import pytest

from dashboard.entry import LogEntry
from dashboard.entry_query import QueryError
from dashboard.pages.held_rows import PAGE_ENTRIES
from dashboard.pages.older_lines import OlderAsk, parse_ask, search_query
from dashboard.pages.view_filter import ViewFilter


def test_an_ask_is_one_page_at_most_and_within_max_rows() -> None:
    assert parse_ask({"before": "1700000000000-3", "held": 100}, max_rows=10_000) == \
        OlderAsk("1700000000000-3", PAGE_ENTRIES, search=False)
    assert parse_ask({"before": "5-0", "held": 9_900, "search": True}, max_rows=10_000) == OlderAsk("5-0", 100, True)
    assert parse_ask({"before": "5-0", "held": 10_000}, max_rows=10_000) is None


GOOD = {"before": "5-0", "held": 0, "search": False}


@pytest.mark.parametrize("args", [None, [], "5-0", {}, {**GOOD, "before": "x"}, {**GOOD, "before": 5},
                                  {**GOOD, "held": -1}, {**GOOD, "held": True}, {**GOOD, "held": "1"},
                                  {**GOOD, "held": 1.5}, {**GOOD, "search": "yes"}, {**GOOD, "before": "5-0 OR 1"}])
def test_an_ask_that_is_not_one_asks_for_nothing(args: object) -> None:
    assert parse_ask(args, max_rows=10_000) is None


def entry(message: str, level: str = "INFO", program: str = "api") -> LogEntry:
    return LogEntry(message=message, timestamp=0, level=level, program=program)


def test_the_search_uses_every_filter_of_the_page() -> None:
    query = search_query(ViewFilter(text="disk", hidden_levels=("DEBUG",), programs=("api",)))
    assert query.matches(entry("Disk full"))
    assert not query.matches(entry("Disk full", level="DEBUG"))
    assert not query.matches(entry("Disk full", program="web"))
    assert not query.matches(entry("all fine"))
    inverted = search_query(ViewFilter(text=r"^disk \d+$", regex=True, invert=True))
    assert inverted.matches(entry("disk x")) and not inverted.matches(entry("DISK 42"))


def test_a_pattern_re2_refuses_is_said_not_run() -> None:
    with pytest.raises(QueryError, match="RE2"):
        search_query(ViewFilter(text=r"(a)\1", regex=True))


@pytest.mark.parametrize("text", ["disk status=500", "user.id!=7", 'path~"^/api"', 'name="a b" x'])
def test_field_conditions_are_refused_by_name_not_searched_as_text(text: str) -> None:
    with pytest.raises(QueryError, match="does not apply field conditions"):
        search_query(ViewFilter(text=text))


@pytest.mark.parametrize(("text", "regex"), [("a=b", True), ("disk full", False), ('"quoted words"', False),
                                              ("=500", False)])
def test_text_that_holds_no_field_condition_is_searched(text: str, regex: bool) -> None:
    search_query(ViewFilter(text=text, regex=regex))
