"""Highlight rules: words to mark in colour without hiding any row, and their form in the page URL.

A rule is `hl=[colour:][re:]text` in the query string, repeatable: `hl=timeout`, `hl=red:timeout`,
`hl=blue:re:5\\d\\d`. The colour is one of `HIGHLIGHT_COLOURS`; without one, a rule takes the colour
used least so far (the first such in the palette). A plain text that itself starts with `re:` or
`text:` is written `text:re:...`. Anything odd in a link (an unknown prefix is part of the text, an
empty or overlong rule, a repeat, more than `MAX_HIGHLIGHT_RULES`) is ignored, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..client.tail import printable

# The palette, in the order rules take colours; the page's CSS has a class for each name, and the
# browser gets a colour as its index here, never as a CSS value.
HIGHLIGHT_COLOURS = ("red", "orange", "yellow", "green", "blue", "purple")
MAX_HIGHLIGHT_RULES = 10
MAX_HIGHLIGHT_CHARS = 200
_REGEX_PREFIX = "re:"
_TEXT_PREFIX = "text:"


@dataclass(frozen=True)
class HighlightRule:
    """Mark what matches `text` (a regular expression if `regex`), case-insensitively, in `colour`."""

    text: str
    colour: str
    regex: bool = False

    def __post_init__(self) -> None:
        if self.colour not in HIGHLIGHT_COLOURS:
            raise ValueError(f"not a highlight colour: {self.colour!r}")

    @property
    def key(self) -> tuple[str, bool]:
        """What makes two rules the same rule, whatever their colours."""
        return self.text, self.regex

    def to_param(self) -> str:
        """The rule as one `hl=` value, colour always written."""
        if self.regex:
            kind = _REGEX_PREFIX
        else:
            kind = _TEXT_PREFIX if self.text.startswith((_REGEX_PREFIX, _TEXT_PREFIX)) else ""
        return f"{self.colour}:{kind}{self.text}"

    def to_component(self) -> dict[str, Any]:
        """The rule as the browser's log view takes it: the colour by its index in the palette."""
        return {"text": self.text, "regex": self.regex, "colour": HIGHLIGHT_COLOURS.index(self.colour)}

    @property
    def label(self) -> str:
        """How a chip names the rule: `/5\\d\\d/` for a regex; control and bidi characters escaped."""
        return printable(f"/{self.text}/" if self.regex else self.text)


def next_colour(rules: Iterable[HighlightRule]) -> str:
    """The colour a new rule takes: the one used least, the first in the palette among those."""
    used = [rule.colour for rule in rules]
    return min(HIGHLIGHT_COLOURS, key=used.count)


def parse_rule(value: str, default_colour: str) -> HighlightRule | None:
    """Read one `hl=` value; None when it holds no usable rule."""
    colour, colon, rest = value.partition(":")
    if colon and colour in HIGHLIGHT_COLOURS:
        value = rest
    else:
        colour = default_colour
    regex = value.startswith(_REGEX_PREFIX)
    if regex:
        value = value[len(_REGEX_PREFIX):]
    elif value.startswith(_TEXT_PREFIX):
        value = value[len(_TEXT_PREFIX):]
    if not value or len(value) > MAX_HIGHLIGHT_CHARS:
        return None
    return HighlightRule(text=value, colour=colour, regex=regex)


def rules_from_query(values: Sequence[str]) -> tuple[HighlightRule, ...]:
    """The rules of a query's `hl=` values: at most `MAX_HIGHLIGHT_RULES`, each rule once."""
    rules: list[HighlightRule] = []
    for value in values:
        if len(rules) >= MAX_HIGHLIGHT_RULES:
            break
        rule = parse_rule(value, next_colour(rules))
        if rule is not None and all(rule.key != kept.key for kept in rules):
            rules.append(rule)
    return tuple(rules)
