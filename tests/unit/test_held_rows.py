"""What a reloaded page's answer asks for: back to its oldest row within --max-rows; nothing for an answer that
is not one."""

from __future__ import annotations

import pytest

from dashboard.pages.held_rows import _wanted


def test_back_to_its_oldest_row_within_max_rows() -> None:
    answer = {"oldest": "1700000000000-0", "held": 20, "first": "1700000000500-3"}
    assert _wanted(answer, max_rows=10_000) == (9980, "1700000000500-3", (1700000000000, 0))
    assert _wanted(answer, max_rows=300) == (280, "1700000000500-3", (1700000000000, 0))
    assert _wanted({**answer, "held": 300}, max_rows=300) is None


GOOD = {"oldest": "1-0", "held": 0, "first": "2-0"}


@pytest.mark.parametrize("answer", [{}, {**GOOD, "held": "9"}, {**GOOD, "oldest": "x"}, {**GOOD, "first": "2-0; DROP"},
                                    {**GOOD, "held": 9.5}, {**GOOD, "held": None}, {**GOOD, "held": -5_000},
                                    {**GOOD, "held": True}])
def test_an_answer_that_is_not_one_asks_for_nothing(answer: dict[str, object]) -> None:
    assert _wanted(answer, max_rows=10_000) is None
