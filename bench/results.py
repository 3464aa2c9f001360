"""What a benchmark run measured, and how each measurement becomes the figure held to its target."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .wrk import WrkResult


@dataclass(frozen=True)
class IngestResult:
    """Single-entry form POSTs with one viewer: rate and delivery."""

    wrk: WrkResult
    accepted: int
    delivered: int


@dataclass(frozen=True)
class InterleavedIngest:
    """Single-entry ingest runs, each between two ceiling runs, with one page session following throughout."""

    ceilings: list[WrkResult]  # one before each run, and one after the last
    runs: list[WrkResult]
    accepted: int
    delivered: int

    @property
    def shares(self) -> list[float]:
        """Each run's requests/s over the mean of the ceiling runs just before and just after it."""
        return [run.ok_per_second / ((before.ok_per_second + after.ok_per_second) / 2)
                for run, before, after in zip(self.runs, self.ceilings, self.ceilings[1:], strict=False)]

    @property
    def share(self) -> float:
        """The median run's share of the ceiling."""
        return statistics.median(self.shares)

    @property
    def ok_per_second(self) -> float:
        return statistics.mean(run.ok_per_second for run in self.runs)


@dataclass(frozen=True)
class BatchedResult:
    """Entries/s in JSON arrays, over several runs."""

    runs: list[float]

    @property
    def entries_per_s(self) -> float:
        """The median run."""
        return statistics.median(self.runs)


@dataclass(frozen=True)
class LatencyResult:
    """POST → the draw that handled the line, in milliseconds."""

    rate: int
    samples: list[float]
    scrolled_past: int  # lines a draw passed over without adding their row; timed by that draw
    not_seen: int  # lines no draw was seen to handle

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class LatencyRuns:
    """Several latency runs at one rate; the figure is the run with the median p99."""

    runs: list[LatencyResult]

    @property
    def median_run(self) -> LatencyResult:
        by_p99 = sorted(self.runs, key=lambda run: run.percentile(0.99))
        return by_p99[(len(by_p99) - 1) // 2]

    def percentile(self, fraction: float) -> float:
        """The median run's percentile."""
        return self.median_run.percentile(fraction)

    def each_p99(self) -> str:
        """Every run's p99 in ms, in the order taken: `11.3, 42.7, 11.4`."""
        return ", ".join(f"{run.percentile(0.99):.1f}" for run in self.runs)

    @property
    def scrolled_past(self) -> int:
        return sum(run.scrolled_past for run in self.runs)

    @property
    def not_seen(self) -> int:
        return sum(run.not_seen for run in self.runs)


def latency_result(rate: int, sent: dict[int, float], shown: dict[int, float]) -> LatencyResult:
    """Each line's latency: its send time (`sent`) to the moment its row entered the page (`shown`).

    When many lines arrive between two draws, the view follows the newest and the oldest of them
    scroll past without a row ever being added. Those are the lines that waited longest, so leaving
    them out would flatter the figure. Rows are drawn in order, so such a line was handled by the
    draw that added the next row that was shown: its latency is taken at that draw.
    """
    samples: list[float] = []
    scrolled_past = not_seen = 0
    next_draw: float | None = None
    for number in sorted(sent, reverse=True):
        if number in shown:
            next_draw = shown[number]
        elif next_draw is None:
            not_seen += 1
            continue
        else:
            scrolled_past += 1
        samples.append(next_draw - sent[number])
    return LatencyResult(rate, samples, scrolled_past, not_seen)


@dataclass(frozen=True)
class FanoutResult:
    """One stream to several viewers at a steady rate."""

    viewers: int
    rate: int
    seconds: int
    sent: int
    lost: int
    cpu_percent: float
    rss_before_mb: float
    rss_idle_mb: float
    rss_after_mb: float

    @property
    def idle_mb_per_viewer(self) -> float:
        return (self.rss_idle_mb - self.rss_before_mb) / self.viewers

    @property
    def growth_mb_per_viewer(self) -> float:
        return (self.rss_after_mb - self.rss_idle_mb) / self.viewers


@dataclass(frozen=True)
class BurstResult:
    """A burst of `logger.info` calls from one thread, through `BunnyLogsHandler`."""

    records: int
    stored: int
    in_order: bool
    requests: int
    quiet_call_ns: list[int]  # each call's cost while logging at a quiet pace
    burst_call_ns: list[int]  # each call's cost during the burst

    @property
    def complete(self) -> bool:
        """Every record stored, in the order it was logged."""
        return self.stored == self.records and self.in_order

    @property
    def quiet_p99_us(self) -> float:
        return _p99(self.quiet_call_ns) / 1000

    @property
    def burst_p99_us(self) -> float:
        return _p99(self.burst_call_ns) / 1000


def _p99(values: list[int]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
