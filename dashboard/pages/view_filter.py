"""What a viewer chose to see, and its round trip through the page URL's query string."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from ..protocol import MAX_FILTER_CHARS, MAX_PROGRAM_CHARS, is_level_name
from .highlight_rules import HighlightRule, rules_from_query
from .stream_keys import MAX_MERGED_STREAMS, is_short_key

# A link names a few levels to hide and programs to show; each becomes a control on the page, so a
# URL must not be able to ask for thousands.
MAX_LINKED_LEVELS = 50
MAX_LINKED_PROGRAMS = 50
# Fields shown as columns (`col=user.id`, a dotted path), at most, each of at most so many characters.
MAX_COLUMNS = 8
MAX_COLUMN_CHARS = 200


# The page's field conditions in plain filter text (TOKENS and CONDITION in dashboard/elements/log_fields.js).
_TOKENS = re.compile(r'(?:[^\s"]+|"[^"]*")+')
_CONDITION = re.compile(r'^([^\s=!~"]+)(!=|=|~)(?:"([^"]*)"|([^\s"]*))$')


@dataclass(frozen=True)
class ViewFilter:
    """The filters and display options of one stream view; the browser applies them to its rows."""

    text: str = ""
    regex: bool = False
    invert: bool = False
    hidden_levels: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    utc: bool = False
    highlights: tuple[HighlightRule, ...] = ()
    hidden_streams: tuple[str, ...] = ()  # a merged view's streams hidden, by name (`stream_keys.short_keys`)
    strip: bool = True  # the volume strip shown (`strip=0` hides it)
    columns: tuple[str, ...] = ()  # dotted paths of fields shown as columns, in order

    @classmethod
    def from_query(cls, query: Mapping[str, Sequence[str]]) -> ViewFilter:
        """Read `?q=&re=1&not=1&hide=DEBUG&program=a&program=b&utc=1&hl=red:timeout&strip=0&col=user.id`
        and a merged view's `&hide_stream=3f8a7c2e`; odd values are ignored."""
        def first(name: str) -> str:
            values = query.get(name) or [""]
            return values[0]

        def flag(name: str) -> bool:
            return first(name) in ("1", "true", "yes", "on")

        named = dict.fromkeys(level.strip().upper() for value in query.get("hide", []) for level in value.split(","))
        hidden = [level for level in named if is_level_name(level)][:MAX_LINKED_LEVELS]
        streams = dict.fromkeys(short for value in query.get("hide_stream", []) for short in value.split(","))
        programs = [program for program in dict.fromkeys(query.get("program", []))
                    if program and len(program) <= MAX_PROGRAM_CHARS][:MAX_LINKED_PROGRAMS]
        return cls(
            text=first("q")[:MAX_FILTER_CHARS],
            regex=flag("re"),
            invert=flag("not"),
            hidden_levels=tuple(sorted(hidden)),
            programs=tuple(programs),
            utc=flag("utc"),
            highlights=rules_from_query(query.get("hl", [])),
            hidden_streams=tuple(sorted(short for short in streams if is_short_key(short))[:MAX_MERGED_STREAMS]),
            strip=first("strip") not in ("0", "false", "no", "off"),
            columns=columns_from(query.get("col", [])),
        )

    @property
    def has_field_conditions(self) -> bool:
        """Whether the filter text holds field conditions (`key=value`, `key!=value`, `key~regex`; plain mode only)."""
        return not self.regex and any(_CONDITION.match(token.group(0)) for token in _TOKENS.finditer(self.text))

    def to_query(self) -> str:
        """The query string (without `?`) that `from_query` reads back to this filter; empty for the default."""
        pairs: list[tuple[str, str]] = []
        if self.text:
            pairs.append(("q", self.text))
        if self.regex:
            pairs.append(("re", "1"))
        if self.invert:
            pairs.append(("not", "1"))
        if self.hidden_levels:
            pairs.append(("hide", ",".join(self.hidden_levels)))
        pairs.extend(("program", program) for program in self.programs)
        if self.utc:
            pairs.append(("utc", "1"))
        pairs.extend(("hl", rule.to_param()) for rule in self.highlights)
        if self.hidden_streams:
            pairs.append(("hide_stream", ",".join(self.hidden_streams)))
        if not self.strip:
            pairs.append(("strip", "0"))
        pairs.extend(("col", column) for column in self.columns)
        return urlencode(pairs)

    def to_component(self) -> dict[str, Any]:
        """The part the browser's log view filters with (a merged view's hidden streams only when there are)."""
        component: dict[str, Any] = {"text": self.text, "regex": self.regex, "invert": self.invert,
                                     "hidden_levels": list(self.hidden_levels), "programs": list(self.programs)}
        if self.hidden_streams:
            component["hidden_streams"] = list(self.hidden_streams)
        return component

    def display_component(self) -> dict[str, Any]:
        """How the browser's log view lays its rows out: the volume strip shown, the columns from fields."""
        return {"strip": self.strip, "columns": list(self.columns), "maxColumns": MAX_COLUMNS,
                "maxColumnChars": MAX_COLUMN_CHARS}

    def highlights_component(self) -> list[dict[str, Any]]:
        """The highlight rules as the browser's log view takes them."""
        return [rule.to_component() for rule in self.highlights]

    def changed(self, **changes: Any) -> ViewFilter:
        """A copy with some fields changed (levels and programs kept in a stable order)."""
        if "hidden_levels" in changes:
            changes["hidden_levels"] = tuple(sorted(set(changes["hidden_levels"])))
        if "hidden_streams" in changes:
            changes["hidden_streams"] = tuple(sorted(set(changes["hidden_streams"])))
        if "programs" in changes:
            changes["programs"] = tuple(dict.fromkeys(changes["programs"]))
        if "columns" in changes:
            changes["columns"] = columns_from(changes["columns"])
        return replace(self, **changes)


def columns_from(values: Iterable[object]) -> tuple[str, ...]:
    """The columns of a link or of the page: non-empty texts of at most `MAX_COLUMN_CHARS`, each once,
    at most `MAX_COLUMNS`; anything else is left out."""
    texts = (value for value in values if isinstance(value, str) and 0 < len(value) <= MAX_COLUMN_CHARS)
    return tuple(dict.fromkeys(texts))[:MAX_COLUMNS]
