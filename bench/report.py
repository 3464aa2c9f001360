"""The results as a table (terminal and Markdown), with the targets, and as a PNG chart."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .fanout_capacity import report as capacity_report
from .results import IngestResult, LatencyRuns
from .scale_out import IngestRun, ScaleOutResults
from .suite import FANOUT_RATE, FANOUT_VIEWERS, FAST_RATE, MID_RATE, SLOW_RATE, BusResults, SuiteResults


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


def _latency_row(rate: int, attribute: str) -> Row:
    """POST → visible at `rate` on each bus (`attribute` of BusResults), against the floor at the same rate."""
    floor_attribute = attribute.removeprefix("latency_")

    def value(bus: BusResults, suite: SuiteResults) -> str:
        return f"{_percentiles(getattr(bus, attribute))}; floor {_floor(getattr(suite.floor, floor_attribute))}"

    def met(bus: BusResults, suite: SuiteResults) -> bool:
        return _within_floor(getattr(bus, attribute), getattr(suite.floor, floor_attribute))

    return Row(f"POST → visible at {rate:,} lines/s, p50 / p90 / p99 ms (median run by p99; each run's p99); "
               "the floor's p50 / p99 (each run's p99)", "p50 ≤ 1.25 x, p99 ≤ 1.5 x the floor's", value, met)


def _floor(result: LatencyRuns) -> str:
    return f"{result.percentile(0.5):.1f} / {result.percentile(0.99):.1f} ({result.each_p99()})"


def _within_floor(ours: LatencyRuns, floor: LatencyRuns) -> bool:
    return (ours.percentile(0.5) <= 1.25 * floor.percentile(0.5)
            and ours.percentile(0.99) <= 1.5 * floor.percentile(0.99))


def _percentiles(result: LatencyRuns) -> str:
    median = " / ".join(f"{result.percentile(f):.1f}" for f in (0.5, 0.9, 0.99))
    return f"{median} ({result.each_p99()})"


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
    *(_latency_row(rate, attribute) for rate, attribute in
      ((SLOW_RATE, "latency_slow"), (MID_RATE, "latency_mid"), (FAST_RATE, "latency_fast"))),
    Row("… lines scrolled past within a draw (timed at that draw) / never seen, all runs, at each rate", "",
        lambda b, s: ", ".join(f"{runs.scrolled_past} / {runs.not_seen}"
                               for runs in (b.latency_slow, b.latency_mid, b.latency_fast))),
    Row(f"logger.info() → visible via BunnyLogsHandler at {SLOW_RATE} records/s, p50 / p90 / p99 ms",
        "p50 ≤ 10, p99 ≤ 25", lambda b, s: _percentiles(b.handler_slow),
        lambda b, s: b.handler_slow.percentile(0.5) <= 10 and b.handler_slow.percentile(0.99) <= 25),
    Row(f"logger.info() → visible via BunnyLogsHandler at {FAST_RATE:,} records/s, p50 / p90 / p99 ms", "p99 ≤ 60",
        lambda b, s: _percentiles(b.handler_fast), lambda b, s: b.handler_fast.percentile(0.99) <= 60),
    Row("burst of logger.info calls from one thread: stored, in order, in requests", "all, in order, ≤ 1 per 50",
        lambda b, s: f"{b.burst.stored:,} of {b.burst.records:,}, "
                     f"{'in order' if b.burst.in_order else 'OUT OF ORDER'}, {b.burst.requests:,} requests",
        lambda b, s: b.burst.complete and b.burst.requests * 50 <= b.burst.records),
    Row("… one logger.info call, p99 µs: at a quiet pace / during the burst", "does not grow (≤ 1.5 x)",
        lambda b, s: f"{b.burst.quiet_p99_us:.1f} / {b.burst.burst_p99_us:.1f}",
        lambda b, s: b.burst.burst_p99_us <= 1.5 * b.burst.quiet_p99_us),
    Row(f"fan-out: {FANOUT_VIEWERS} page sessions x {FANOUT_RATE:,} lines/s, lost", "0",
        lambda b, s: f"{b.fanout.lost:,} of {b.fanout.sent * b.fanout.viewers:,}", lambda b, s: b.fanout.lost == 0),
    Row("… server CPU (% of one core)", "", lambda b, s: f"{b.fanout.cpu_percent:.0f}%"),
    Row("… server RSS before viewers / idle viewers / after the run, MB", "",
        lambda b, s: f"{b.fanout.rss_before_mb:.0f} / {b.fanout.rss_idle_mb:.0f} / {b.fanout.rss_after_mb:.0f}"),
    Row("… server memory per idle viewer, MB", "≤ 2", lambda b, s: f"{b.fanout.idle_mb_per_viewer:.2f}",
        lambda b, s: b.fanout.idle_mb_per_viewer <= 2),
    Row("… server memory growth per viewer over the run, MB", "", lambda b, s: f"{b.fanout.growth_mb_per_viewer:.2f}"),
]


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
    """The tables for a terminal."""
    rows = table(suite)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    main = "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)
    return "\n\n".join([main, *scale_sections(suite)])


def scale_sections(suite: SuiteResults) -> list[str]:
    """The fan-out capacity and scale-out tables, in Markdown (readable as text too)."""
    return [capacity_report(suite.capacity, suite.capacity[0].seconds if suite.capacity else 0),
            _scale_out_markdown(suite.scale_out)]


def _scale_out_markdown(results: ScaleOutResults) -> str:
    one, two = results.workers
    lines = ["Through nginx (deploy/nginx/bunnylogs-cluster.conf, one nginx worker), one ingest process with "
             "1 or 2 workers on Redis; CPU as % of one core, over each run:", "",
             "| ingest workers | single-entry POSTs/s (median; runs) | CPU ingest / nginx / redis "
             "| batched entries/s (median; runs) | CPU ingest / nginx / redis |", "|---|---|---|---|---|"]
    for result in results.workers:
        lines.append(f"| {result.workers} | {result.single_per_s:,.0f} ({_runs([r.per_second for r in result.single])})"
                     f" | {_cpu(result.single)} | {result.batched_per_s:,.0f} "
                     f"({_runs([r.per_second for r in result.batched])}) | {_cpu(result.batched)} |")
    lines += ["", f"2 workers / 1 worker: single-entry {two.single_per_s / one.single_per_s:.2f}x, "
                  f"batched {two.batched_per_s / one.batched_per_s:.2f}x "
                  f"(refused: {sum(r.refused for w in results.workers for r in [*w.single, *w.batched])}).", ""]
    spread = results.spread
    lines.append(f"Page sessions through nginx over 2 UI processes: {sum(spread.viewers_per_process)} "
                 f"({' + '.join(map(str, spread.viewers_per_process))}), {spread.lines:,} lines: "
                 f"{spread.delivered:,} of {spread.expected:,} rows delivered, delay p50 / p99 "
                 f"{spread.p50_ms:.1f} / {spread.p99_ms:.1f} ms.")
    return "\n".join(lines)


def _cpu(runs: list[IngestRun]) -> str:
    median = runs[len(runs) // 2].cpu
    return " / ".join(f"{median[part]:.0f}%" for part in ("ingest", "nginx", "redis"))


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
        "## Fan-out capacity and scale-out",
        "",
        *scale_sections(suite),
        "",
        notes.strip(),
        "",
    ]
    return "\n".join(lines)


def _machine() -> str:
    import os

    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def draw_chart(suite: SuiteResults, path: Path) -> None:
    """Two panels: ingest as a share of the ceiling; POST → visible p50 and p99 by rate, each bus against the floor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [bus.bus for bus in suite.buses]
    figure, (ingest, latency) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1, 2]})
    shares = [100 * bus.ingest.share for bus in suite.buses]
    ingest.bar(names, shares, color=["#4c72b0", "#dd8452"][: len(names)])
    ingest.axhline(60, color="red", linestyle="--", label="target 60%")
    ingest.set_title("single-entry ingest, 1 page session:\n% of the ceiling (median run)")
    ingest.set_ylim(0, 100)
    ingest.legend(loc="upper right")
    rates = [SLOW_RATE, MID_RATE, FAST_RATE]
    series = [(bus.bus, [bus.latency_slow, bus.latency_mid, bus.latency_fast], color)
              for bus, color in zip(suite.buses, ("#4c72b0", "#dd8452"), strict=False)]
    series.append(("floor", [suite.floor.slow, suite.floor.mid, suite.floor.fast], "#555555"))
    for name, runs, color in series:
        latency.plot(rates, [run.percentile(0.5) for run in runs], marker="o", color=color, label=f"{name} p50")
        latency.plot(rates, [run.percentile(0.99) for run in runs], marker="s", linestyle="--", color=color,
                     label=f"{name} p99")
    latency.set_xscale("log")
    latency.set_yscale("log")
    latency.set_xticks(rates, [f"{rate:,}" for rate in rates])
    latency.set_xlabel("lines/s (single-line POSTs)")
    latency.set_ylabel("ms")
    latency.set_title("POST → visible in Chromium (median run by p99): BunnyLogs against the floor")
    latency.legend(loc="upper left", fontsize="small", ncol=3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
