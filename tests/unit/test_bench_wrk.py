"""The benchmark's wrk glue: the Lua body string and the report parser."""

from __future__ import annotations

import re

import pytest

from bench.wrk import _lua_string, parse_wrk_output

WRK_REPORT = """Running 10s test @ http://127.0.0.1:40000/live/0b0e
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.71ms    1.02ms  21.90ms   91.54%
    Req/Sec    11.87k   512.33    12.61k    82.00%
  118114 requests in 10.01s, 9.91MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 17
Requests/sec:  11800.40
Transfer/sec:      0.99MB
"""


def test_the_report_gives_totals_refusals_and_socket_errors() -> None:
    result = parse_wrk_output(WRK_REPORT)

    assert (result.requests, result.seconds, result.not_2xx, result.socket_errors) == (118114, 10.01, 17, 3)
    assert result.ok_per_second == pytest.approx((118114 - 17) / 10.01)


def test_a_run_shorter_than_a_second_is_read_in_milliseconds() -> None:
    result = parse_wrk_output("  812 requests in 500.00ms, 70.00KB read\n")

    assert (result.requests, result.seconds, result.not_2xx, result.socket_errors) == (812, 0.5, 0, 0)


def test_output_without_totals_is_an_error_not_zero() -> None:
    with pytest.raises(RuntimeError, match="unexpected wrk output"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


@pytest.mark.parametrize("body", ['{"a": 1}', '[{"message": "x"}]', "a]]b]=]c", "ends in ]", "]==]"])
def test_the_lua_long_string_holds_the_body_exactly(body: str) -> None:
    quoted = _lua_string(body)
    opening = re.match(r"\[(=*)\[", quoted)
    assert opening is not None
    closing = f"]{opening.group(1)}]"
    # Lua ends the string at the first closing sequence: it must be the last one, right after the body.
    assert quoted.index(closing, len(opening.group(0))) == len(quoted) - len(closing)
    assert quoted[len(opening.group(0)):-len(closing)] == body
