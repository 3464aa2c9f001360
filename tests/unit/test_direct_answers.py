"""The fixed header lines of a direct answer are checked once, as uvicorn checks each answer's."""

from __future__ import annotations

import pytest

from dashboard.direct_answers import encode_header_lines


def test_header_lines_are_lower_case_names_in_order() -> None:
    assert encode_header_lines({"X-Frame-Options": "DENY", "Access-Control-Allow-Origin": "*"}) == (
        b"x-frame-options: DENY\r\naccess-control-allow-origin: *\r\n")


@pytest.mark.parametrize("headers", [
    {"X-Ok": "a\r\nSet-Cookie: stolen=1"},  # a value that would start a header of its own
    {"X-Ok": "a\nb"},
    {"Bad Name": "x"},
    {"Bad:Name": "x"},
    {"": "x"},
    {"X-Ok": "caf\u00e9"},
])
def test_what_http_forbids_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="not a valid HTTP header"):
        encode_header_lines(headers)
