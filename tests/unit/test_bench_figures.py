"""How the benchmark turns runs into the figures it holds against the targets."""

from __future__ import annotations

import pytest

from bench.results import BatchedResult, InterleavedIngest
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
                               runs=[per_second(r) for r in (2_000, 7_000, 6_500)], accepted=3, delivered=2)
    assert result.share == pytest.approx(0.65)
    assert result.lost == 1


def test_batched_ingest_is_the_median_run() -> None:
    assert BatchedResult([90_000, 130_000, 110_000]).entries_per_s == 110_000
