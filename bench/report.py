"""The results as a table (terminal and Markdown), with the targets, and as a PNG chart."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .results import IngestResult, LatencyRuns
from .suite import FANOUT_RATE, FANOUT_VIEWERS, FAST_RATE, SLOW_RATE, BusResults, SuiteResults


@dataclass(frozen=True)
class Row:
    """One line of the table: a measure, its target, and how to read it off a bus's results."""

    measure: str
    target: str
    value: Callable[[BusResults, SuiteResults], str]
    met: Callable[[BusResults, SuiteResults], bool] | None = None


def tab_share(ingest: IngestResult, bus: BusResults) -> float:
    return ingest.wrk.ok_per_second / bus.ceiling_per_s


def _runs(values: list[float], unit: str = "") -> str:
    return ", ".join(f"{value:,.0f}{unit}" for value in values)


ROWS = [
    Row("single-entry form POSTs/s, 1 page session (mean; share: median run, and each run)", "≥ 60% of ceiling",
        lambda b, s: f"{b.ingest.ok_per_second:,.0f} ({b.ingest.share:.0%}; "
                     f"{_runs([100 * share for share in b.ingest.shares], '%')})",
        lambda b, s: b.ingest.share >= 0.60),
    Row("… entries accepted / sent to the session", "all sent",
        lambda b, s: f"{b.ingest.accepted:,} / {b.ingest.delivered:,}",
        lambda b, s: b.ingest.delivered == b.ingest.accepted),
    Row("single-entry form POSTs/s, 1 Chromium tab drawing", "",
        lambda b, s: f"{b.ingest_tab.wrk.ok_per_second:,.0f} ({tab_share(b.ingest_tab, b):.0%})"),
    Row("… entries accepted / counted by the tab", "all counted",
        lambda b, s: f"{b.ingest_tab.accepted:,} / {b.ingest_tab.delivered:,}",
        lambda b, s: b.ingest_tab.delivered == b.ingest_tab.accepted),
    Row("batched ingest, entries/s (JSON arrays of 500; median run, and each run)", "≥ 100,000",
        lambda b, s: f"{b.batched.entries_per_s:,.0f} ({_runs(b.batched.runs)})",
        lambda b, s: b.batched.entries_per_s >= 100_000),
    Row(f"latency at {SLOW_RATE} lines/s, p50 / p90 / p99 ms (median run by p99; each run's p99)", "p50 ≤ 8, p99 ≤ 16",
        lambda b, s: _percentiles(b.latency_slow),
        lambda b, s: b.latency_slow.percentile(0.5) <= 8 and b.latency_slow.percentile(0.99) <= 16),
    Row(f"latency at {FAST_RATE:,} lines/s, p50 / p90 / p99 ms (median run by p99; each run's p99)", "p99 ≤ 100",
        lambda b, s: _percentiles(b.latency_fast), lambda b, s: b.latency_fast.percentile(0.99) <= 100),
    Row("… lines scrolled past within a draw (timed at that draw) / never seen, all runs, at each rate", "",
        lambda b, s: f"{b.latency_slow.scrolled_past} / {b.latency_slow.not_seen}, "
                     f"{b.latency_fast.scrolled_past} / {b.latency_fast.not_seen}"),
    Row(f"fan-out: {FANOUT_VIEWERS} page sessions x {FANOUT_RATE:,} lines/s, lost", "0",
        lambda b, s: f"{b.fanout.lost:,} of {b.fanout.sent * b.fanout.viewers:,}", lambda b, s: b.fanout.lost == 0),
    Row("… server CPU (% of one core)", "", lambda b, s: f"{b.fanout.cpu_percent:.0f}%"),
    Row("… server RSS before viewers / idle viewers / after the run, MB", "",
        lambda b, s: f"{b.fanout.rss_before_mb:.0f} / {b.fanout.rss_idle_mb:.0f} / {b.fanout.rss_after_mb:.0f}"),
    Row("… server memory per idle viewer, MB", "≤ 2", lambda b, s: f"{b.fanout.idle_mb_per_viewer:.2f}",
        lambda b, s: b.fanout.idle_mb_per_viewer <= 2),
    Row("… server memory growth per viewer over the run, MB", "", lambda b, s: f"{b.fanout.growth_mb_per_viewer:.2f}"),
]


def _percentiles(result: LatencyRuns) -> str:
    median = " / ".join(f"{result.percentile(f):.1f}" for f in (0.5, 0.9, 0.99))
    return f"{median} ({', '.join(f'{run.percentile(0.99):.1f}' for run in result.runs)})"


def _cell(row: Row, bus: BusResults, suite: SuiteResults) -> str:
    text = row.value(bus, suite)
    if row.met is None:
        return text
    return f"{text} {'✅' if row.met(bus, suite) else '❌'}"


def table(suite: SuiteResults) -> list[list[str]]:
    """Header and rows: measure, target, one column per bus."""
    header = ["measure", "target", *(bus.bus for bus in suite.buses)]
    ceiling = ["ceiling: bare Starlette no-op POSTs/s (mean, and each run in order)", "reference",
               *(f"{bus.ceiling_per_s:,.0f} ({_runs([run.ok_per_second for run in bus.ingest.ceilings])})"
                 for bus in suite.buses)]
    return [header, ceiling, *([row.measure, row.target, *(_cell(row, bus, suite) for bus in suite.buses)]
                               for row in ROWS)]


def as_text(suite: SuiteResults) -> str:
    """The table for a terminal."""
    rows = table(suite)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def as_markdown(suite: SuiteResults, command: str, chart: Path, notes: str) -> str:
    """docs/benchmarks.md."""
    rows = table(suite)
    lines = [
        "# Benchmarks",
        "",
        f"Made by `{command}` on this machine: {_machine()}. Figures from one run; the targets are the "
        "project's speed targets (ratios to the ceiling where the machine matters).",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + "---|" * len(rows[0]),
        *("| " + " | ".join(row) + " |" for row in rows[1:]),
        "",
        f"![Ingest against the ceiling, and latency]({chart.name})",
        "",
        notes.strip(),
        "",
    ]
    return "\n".join(lines)


def _machine() -> str:
    import os

    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def draw_chart(suite: SuiteResults, path: Path) -> None:
    """Three panels: ingest as a share of the ceiling, latency at the slow and at the fast rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [bus.bus for bus in suite.buses]
    figure, (ingest, slow, fast) = plt.subplots(1, 3, figsize=(13, 4.2))
    shares = [100 * bus.ingest.share for bus in suite.buses]
    ingest.bar(names, shares, color=["#4c72b0", "#dd8452"][: len(names)])
    ingest.axhline(60, color="red", linestyle="--", label="target 60%")
    ingest.set_title("single-entry ingest, 1 page session:\n% of the ceiling (median run)")
    ingest.set_ylim(0, 100)
    ingest.legend(loc="upper right")
    for axis, rate, attribute, limits in ((slow, SLOW_RATE, "latency_slow", (("p50", 8), ("p99", 16))),
                                          (fast, FAST_RATE, "latency_fast", (("p99", 100),))):
        width = 0.25
        for offset, (label, fraction) in enumerate((("p50", 0.5), ("p90", 0.9), ("p99", 0.99))):
            values = [getattr(bus, attribute).percentile(fraction) for bus in suite.buses]
            axis.bar([i + (offset - 1) * width for i in range(len(names))], values, width, label=label)
        for (percentile, limit), style in zip(limits, ("--", ":"), strict=False):
            axis.axhline(limit, color="red", linestyle=style, label=f"{percentile} target {limit} ms")
        axis.set_xticks(range(len(names)), names)
        axis.set_title(f"POST → visible in Chromium,\n{rate:,} lines/s (ms)")
        axis.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
