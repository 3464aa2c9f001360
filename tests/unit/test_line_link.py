"""What a page's `?at=` and `?since=` name: a line, a time, or nothing (with the notice to show)."""

from __future__ import annotations

import pytest

from dashboard.pages.line_link import NOT_A_LINE, NOT_A_TIME, LinkTarget, just_before, link_target

NOW = 1_800_000_000.0


def test_at_names_a_line_exactly_and_comes_before_since() -> None:
    assert link_target({"at": ["1700000000000-3"]}) == LinkTarget("1700000000000-3", exact=True)
    assert link_target({"at": ["1700000000000"]}) == LinkTarget("1700000000000-0", exact=True)
    assert link_target({"at": ["0001-02"], "since": ["15m"]}) == LinkTarget("1-2", exact=True)


@pytest.mark.parametrize("at", ["x", "1700000000000-", "-1", "1-2-3", " 1-2", "1e3", "18446744073709551616-0",
                                "\uff11-0", "1-0<script>"])
def test_at_that_names_no_line_is_refused_with_a_constant_notice(at: str) -> None:
    assert link_target({"at": [at]}) == NOT_A_LINE


def test_since_names_the_first_line_at_or_after_a_time() -> None:
    assert link_target({"since": ["15m"]}, now=NOW) == LinkTarget(f"{int((NOW - 900) * 1000)}-0", exact=False)
    assert link_target({"since": ["2026-11-25T10:00:00.5Z"]}, now=NOW) == LinkTarget("1795600800500-0", exact=False)
    assert link_target({"since": ["0001-01-01"]}, now=NOW) == LinkTarget("0-0", exact=False)
    assert link_target({"since": ["yesterday"]}, now=NOW) == NOT_A_TIME


def test_a_page_without_either_names_nothing() -> None:
    assert link_target({"q": ["x"]}) is None
    assert link_target({"at": [""], "since": [""]}) is None


def test_just_before() -> None:
    assert just_before("5-3") == "5-2"
    assert just_before("5-0") == "4-18446744073709551615"
    assert just_before("0-0") == "0-0"
