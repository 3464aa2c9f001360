"""The viewer's filter and its round trip through the page URL."""

from __future__ import annotations

from urllib.parse import parse_qs

from hypothesis import given
from hypothesis import strategies as st

from dashboard.pages.view_filter import (
    MAX_COLUMN_CHARS,
    MAX_COLUMNS,
    MAX_FILTER_CHARS,
    MAX_LINKED_LEVELS,
    MAX_LINKED_PROGRAMS,
    ViewFilter,
)


def test_default_filter_has_an_empty_query() -> None:
    assert ViewFilter().to_query() == ""
    assert ViewFilter.from_query({}) == ViewFilter()


def test_every_field_survives_the_round_trip() -> None:
    chosen = ViewFilter(text="a&b=c #1 ünï", regex=True, invert=True, hidden_levels=("DEBUG", "TRACE"),
                        programs=("web, api", "cron"), utc=True)
    assert ViewFilter.from_query(parse_qs(chosen.to_query())) == chosen


def test_odd_queries_are_ignored_not_errors() -> None:
    parsed = ViewFilter.from_query({"re": ["maybe"], "hide": ["debug,,info"], "program": ["", "web", "web"],
                                    "q": ["x" * 5000], "unknown": ["1"]})
    assert parsed.regex is False
    assert parsed.hidden_levels == ("DEBUG", "INFO")
    assert parsed.programs == ("web",)
    assert len(parsed.text) == MAX_FILTER_CHARS


def test_changed_keeps_levels_sorted_and_programs_unique() -> None:
    changed = ViewFilter().changed(hidden_levels={"INFO", "DEBUG"}, programs=["b", "a", "b"])
    assert changed.hidden_levels == ("DEBUG", "INFO") and changed.programs == ("b", "a")
    assert changed.to_component() == {"text": "", "regex": False, "invert": False,
                                      "hidden_levels": ["DEBUG", "INFO"], "programs": ["b", "a"]}


def test_hidden_levels_that_no_entry_could_have_are_dropped() -> None:
    parsed = ViewFilter.from_query({"hide": ['X :A="\\167\\151"', "trace", "<b>", "a" * 30, "ok_level-2"]})
    assert parsed.hidden_levels == ("OK_LEVEL-2", "TRACE")


def test_a_link_cannot_ask_for_thousands_of_controls() -> None:
    levels = ",".join(f"L{n:04d}" for n in range(5000))
    programs = [f"p{n}" for n in range(5000)] + ["x" * 101]
    parsed = ViewFilter.from_query({"hide": [levels], "program": programs})
    assert parsed.hidden_levels == tuple(f"L{n:04d}" for n in range(MAX_LINKED_LEVELS))
    assert parsed.programs == tuple(f"p{n}" for n in range(MAX_LINKED_PROGRAMS))


def test_the_volume_strip_is_shown_unless_a_link_hides_it() -> None:
    assert ViewFilter.from_query({}).strip is True
    hidden = ViewFilter(strip=False)
    assert hidden.to_query() == "strip=0"
    assert ViewFilter.from_query(parse_qs(hidden.to_query())) == hidden
    for value in ("0", "false", "no", "off"):
        assert ViewFilter.from_query({"strip": [value]}).strip is False
    for odd in ("1", "", "<img src=x>", "maybe", "0 "):  # anything else keeps it: never an error
        assert ViewFilter.from_query({"strip": [odd]}).strip is True


def test_columns_round_trip_in_order_and_odd_ones_are_left_out() -> None:
    chosen = ViewFilter(columns=("user.id", "status", "__proto__", "<img src=x onerror=alert(1)>", "a&b=c #d"))
    assert ViewFilter.from_query(parse_qs(chosen.to_query())) == chosen
    parsed = ViewFilter.from_query({"col": ["", "x" * (MAX_COLUMN_CHARS + 1), "ok", "ok", "y" * MAX_COLUMN_CHARS]})
    assert parsed.columns == ("ok", "y" * MAX_COLUMN_CHARS)
    many = ViewFilter.from_query({"col": [f"k{n}" for n in range(100)]})
    assert many.columns == tuple(f"k{n}" for n in range(MAX_COLUMNS))
    assert ViewFilter().changed(columns=["a", 3, None, "a", "b"]).columns == ("a", "b")  # as the page sends them
    assert ViewFilter(columns=("status",)).display_component() == {
        "strip": True, "columns": ["status"], "maxColumns": MAX_COLUMNS, "maxColumnChars": MAX_COLUMN_CHARS,
    }


_column = st.text(min_size=1, max_size=MAX_COLUMN_CHARS).filter(lambda text: "\x00" not in text)


@given(columns=st.lists(_column, max_size=MAX_COLUMNS, unique=True), strip=st.booleans(),
       text=st.text(max_size=50).filter(lambda text: "\x00" not in text))
def test_any_columns_strip_and_text_survive_the_round_trip(columns: list[str], strip: bool, text: str) -> None:
    chosen = ViewFilter(text=text, columns=tuple(columns), strip=strip)
    assert ViewFilter.from_query(parse_qs(chosen.to_query(), keep_blank_values=True)) == chosen
