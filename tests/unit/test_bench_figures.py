"""How the benchmark turns runs into the figures it holds against the targets."""

from __future__ import annotations

import pytest

from bench.results import BatchedResult, InterleavedIngest, LatencyResult, LatencyRuns, latency_result
from bench.wrk import WrkResult


def per_second(rate: float) -> WrkResult:
    return WrkResult(requests=int(rate * 10), seconds=10.0, not_2xx=0, socket_errors=0)


def test_each_ingest_run_is_compared_with_the_ceiling_runs_around_it() -> None:
    # The machine slows down and speeds up again; each run is measured against its neighbours.
    result = InterleavedIngest(ceilings=[per_second(r) for r in (10_000, 6_000, 12_000, 10_000)],
                               runs=[per_second(r) for r in (4_800, 5_400, 6_600)], accepted=5, delivered=5)
    assert result.shares == pytest.approx([0.6, 0.6, 0.6])
    assert result.share == pytest.approx(0.6)
    assert result.ok_per_second == pytest.approx(5_600)


def test_the_share_is_the_median_run() -> None:
    result = InterleavedIngest(ceilings=[per_second(10_000)] * 4,
                               runs=[per_second(r) for r in (2_000, 7_000, 6_500)], accepted=3, delivered=3)
    assert result.share == pytest.approx(0.65)


def test_batched_ingest_is_the_median_run() -> None:
    assert BatchedResult([90_000, 130_000, 110_000]).entries_per_s == 110_000


def test_a_line_scrolled_past_is_timed_at_the_draw_that_passed_it() -> None:
    # Lines 1 and 2 arrived together with 3; the draw at 50 ms showed only 3's row.
    sent = {0: 0.0, 1: 10.0, 2: 20.0, 3: 30.0, 4: 40.0}
    shown = {0: 5.0, 3: 50.0, 4: 45.0 + 10}
    result = latency_result(1000, sent, shown)
    assert sorted(result.samples) == [5.0, 15.0, 20.0, 30.0, 40.0]
    assert (result.scrolled_past, result.not_seen) == (2, 0)
    assert result.percentile(0.99) == 40.0  # the longest wait counts


def test_lines_after_the_last_row_seen_are_counted_as_never_seen() -> None:
    result = latency_result(20, {0: 0.0, 1: 50.0, 2: 100.0}, {0: 6.0})
    assert (result.samples, result.scrolled_past, result.not_seen) == ([6.0], 0, 2)


def test_latency_is_the_run_with_the_median_p99() -> None:
    runs = [LatencyResult(1000, [10.0] * 99 + [p99], scrolled_past=n, not_seen=0)
            for p99, n in ((120.0, 30), (40.0, 2), (70.0, 5))]
    result = LatencyRuns(runs)
    assert result.median_run is runs[2]
    assert (result.percentile(0.5), result.percentile(0.99)) == (10.0, 70.0)
    assert result.scrolled_past == 37


def test_each_run_is_shown_in_the_order_taken() -> None:
    # The floor's runs spread as ours do; a reader must see that spread to weigh the comparison.
    runs = [LatencyResult(1000, [10.0] * 99 + [p99], scrolled_past=0, not_seen=0) for p99 in (120.0, 40.0, 70.0)]
    assert LatencyRuns(runs).each_p99() == "120.0, 40.0, 70.0"
