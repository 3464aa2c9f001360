"""Level names and numbers become canonical names."""

import pytest

from dashboard.entry import InvalidEntry, normalize_level


@pytest.mark.parametrize(("given", "expected"), [
    ("info", "INFO"), ("INFO", "INFO"), (" Debug ", "DEBUG"), ("warning", "WARNING"),
    ("warn", "WARNING"), ("WARN", "WARNING"), ("fatal", "CRITICAL"), ("crit", "CRITICAL"),
    ("err", "ERROR"), ("error", "ERROR"), ("critical", "CRITICAL"),
    (10, "DEBUG"), (20, "INFO"), (30, "WARNING"), (40, "ERROR"), (50, "CRITICAL"),
    (25, "INFO"), (0, "DEBUG"), (49, "ERROR"), (30.0, "WARNING"), ("40", "ERROR"),
    ("trace", "TRACE"), ("success", "SUCCESS"), ("audit-log", "AUDIT-LOG"),
    (None, "INFO"), ("", "INFO"),
])
def test_level_is_normalised(given: object, expected: str) -> None:
    assert normalize_level(given) == expected


@pytest.mark.parametrize("given", [51, -1, 100, "60", True, 12.5, [1], {"a": 1}, "<script>", "has space",
                                   "x" * 21, "9lives"])
def test_bad_level_is_refused_with_a_reason(given: object) -> None:
    with pytest.raises(InvalidEntry, match="level"):
        normalize_level(given)
