"""Highlight rules and their `?hl=` form in the page URL."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.pages.highlight_rules import (
    HIGHLIGHT_COLOURS,
    MAX_HIGHLIGHT_CHARS,
    MAX_HIGHLIGHT_RULES,
    HighlightRule,
    next_colour,
    rules_from_query,
)
from dashboard.pages.view_filter import ViewFilter


def test_the_readable_forms() -> None:
    assert rules_from_query(["timeout", r"re:5\d\d", "blue:error", r"green:re:^GET \S+"]) == (
        HighlightRule("timeout", "red"),
        HighlightRule(r"5\d\d", "orange", regex=True),
        HighlightRule("error", "blue"),
        HighlightRule(r"^GET \S+", "green", regex=True),
    )


def test_rules_without_a_colour_take_the_least_used_one_in_turn() -> None:
    rules = rules_from_query(["red:a", "b", "c", "yellow:d", "e"])
    assert [rule.colour for rule in rules] == ["red", "orange", "yellow", "yellow", "green"]
    assert next_colour([HighlightRule(str(n), colour) for n, colour in enumerate(HIGHLIGHT_COLOURS)]) == "red"


def test_a_prefix_that_is_no_colour_is_part_of_the_text() -> None:
    assert rules_from_query(["pink:x", "ERROR: disk", "http://host", "RE:subject"]) == (
        HighlightRule("pink:x", "red"), HighlightRule("ERROR: disk", "orange"),
        HighlightRule("http://host", "yellow"), HighlightRule("RE:subject", "green"))


def test_texts_that_look_like_prefixes_survive_the_round_trip() -> None:
    rules = (HighlightRule("re:plain", "red"), HighlightRule("text:x", "blue"), HighlightRule("red:x", "green"),
             HighlightRule("re:x", "purple", regex=True))
    assert [rule.to_param() for rule in rules] == ["red:text:re:plain", "blue:text:text:x", "green:red:x",
                                                   "purple:re:re:x"]
    chosen = ViewFilter(highlights=rules)
    assert ViewFilter.from_query(parse_qs(chosen.to_query())) == chosen


def test_odd_values_are_ignored_not_errors() -> None:
    values = ["", "red:", "re:", "blue:re:", "x" * (MAX_HIGHLIGHT_CHARS + 1), "same", "green:same", "re:same",
              '"><img src=x onerror=alert(1)>', ":style=alert(1)"]
    assert rules_from_query(values) == (
        HighlightRule("same", "red"), HighlightRule("same", "orange", regex=True),
        HighlightRule('"><img src=x onerror=alert(1)>', "yellow"), HighlightRule(":style=alert(1)", "green"))


def test_a_link_holds_at_most_so_many_rules() -> None:
    rules = rules_from_query([f"word{n}" for n in range(1000)])
    assert [rule.text for rule in rules] == [f"word{n}" for n in range(MAX_HIGHLIGHT_RULES)]


def test_a_colour_is_only_ever_one_of_the_palette() -> None:
    with pytest.raises(ValueError, match="not a highlight colour"):
        HighlightRule("x", "#f00; background: url(x)")
    assert HighlightRule("x", "purple").to_component() == {"text": "x", "regex": False, "colour": 5}


def test_a_chip_label_shows_bidi_and_control_characters_escaped() -> None:
    assert HighlightRule("a\u202eb\x07", "red").label == "a\\u202eb\\x07"
    assert HighlightRule(r"5\d\d", "red", regex=True).label == r"/5\d\d/"


_texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=MAX_HIGHLIGHT_CHARS)
_rules = st.builds(HighlightRule, text=_texts, colour=st.sampled_from(HIGHLIGHT_COLOURS), regex=st.booleans())


@given(st.lists(_rules, max_size=MAX_HIGHLIGHT_RULES, unique_by=lambda rule: rule.key),
       st.text(max_size=50), st.booleans())
def test_every_set_of_rules_survives_the_round_trip(rules: list[HighlightRule], text: str, utc: bool) -> None:
    chosen = ViewFilter(text=text, utc=utc, highlights=tuple(rules))
    assert ViewFilter.from_query(parse_qs(chosen.to_query())) == chosen


@given(st.lists(st.text(max_size=300), max_size=30))
def test_any_hl_values_give_a_bounded_set_of_palette_rules(values: list[str]) -> None:
    rules = rules_from_query(values)
    assert len(rules) <= MAX_HIGHLIGHT_RULES
    assert len({rule.key for rule in rules}) == len(rules)
    assert all(0 < len(rule.text) <= MAX_HIGHLIGHT_CHARS and rule.colour in HIGHLIGHT_COLOURS for rule in rules)
