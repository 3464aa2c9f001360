"""The characters log text may not show as they are: one set, escaped alike by `bunnylogs tail` and the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import dashboard.elements
from dashboard.client.printable import UNSAFE_CHARACTERS, printable

PRINTABLE_TEXT_JS = Path(dashboard.elements.__file__).with_name("printable_text.js")


def test_the_page_escapes_the_same_characters_as_tail() -> None:
    script = PRINTABLE_TEXT_JS.read_text(encoding="utf-8")
    [page_set] = re.findall(r"^export const UNSAFE_CHARACTER = /(.*)/;$", script, re.MULTILINE)
    assert page_set == UNSAFE_CHARACTERS.pattern


@pytest.mark.parametrize(("text", "shown"), [
    ("bell\x07", "bell\\x07"),
    ("esc \x1b[31m", "esc \\x1b[31m"),
    ("del\x7f csi\x9b", "del\\x7f csi\\x9b"),
    ("invoice\u202efdp.exe", "invoice\\u202efdp.exe"),
    ("\u2066isolate\u2069 \u200e\u200f\u061c", "\\u2066isolate\\u2069 \\u200e\\u200f\\u061c"),
    ("line\u2028para\u2029zero\u200bbom\ufeff", "line\\u2028para\\u2029zero\\u200bbom\\ufeff"),
    ("soft\u00adjoin\u2060vs\u180e", "soft\\xadjoin\\u2060vs\\u180e"),
    ("tab\tand\nnewline stay, as do é and 日本", "tab\tand\nnewline stay, as do é and 日本"),
    ("old\u206aformat\u206f note\ufff9x\ufffb", "old\\u206aformat\\u206f note\\ufff9x\\ufffb"),
    ("lone \ud800 and \udfff, whole 😀", "lone \\ud800 and \\udfff, whole 😀"),
    ("a flag's tags stay: 🏴\U000e0067\U000e007f", "a flag's tags stay: 🏴\U000e0067\U000e007f"),
])
def test_printable_escapes_controls_and_bidi_formatting(text: str, shown: str) -> None:
    assert printable(text) == shown
