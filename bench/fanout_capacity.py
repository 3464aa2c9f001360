"""How many viewers one UI process feeds at 10 lines/s with delivery p99 ≤ 100 ms, and its CPU per message.

The ramp stops at the first step that loses rows: the server cuts off a session whose socket falls
64 messages behind, which here means this one process, reading every session, fell behind.

The server is pinned to one core and this load generator to the other, and the server's CPU is
read from its own process accounting (user + system time), so the generator's work is not in the
figure. The generator's own CPU is reported beside it: near 100 % of its core, the delays measure
the generator reading late, not the server sending late. Each step measures a steady stream: its
new pages are first sent 2 s of lines that are not counted (a page's first rows also write its
restart record, one more NiceGUI message per page, which all of a step's new pages would
otherwise send within the same few lines). Viewers are `bench.light_viewers` page
sessions (real NiceGUI clients, minimal sockets).

Run from the repository root:  .venv/bin/python -m bench.fanout_capacity [--viewers 250,500,1000,2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import time
import uuid
from dataclasses import dataclass

import aiohttp
import psutil

from harness.servers import AppProcess, running_app, wait_for_viewers

from .light_viewers import BROWSER_DEFLATE_OFFER, LightViewer, message_with_send_time, open_light_viewer

RATE = 10
OPEN_AT_ONCE = 16
WARM_UP_SECONDS = 2.0
SERVER_CORE, GENERATOR_CORE = 0, 1
P99_TARGET_MS = 100.0
# Every limit that would refuse thousands of sessions from one address is lifted: this measures fan-out.
SERVER_FLAGS = ("--history", "0", "--log-level", "warning", "--viewers-per-stream", "0", "--viewers-per-client", "0",
                "--max-connections", "20000", "--max-connections-per-client", "0")


@dataclass(frozen=True)
class Step:
    """One viewer count, measured."""

    viewers: int
    lines: int
    messages_expected: int
    rows_delivered: int
    server_cpu_s: float
    seconds: float
    p50_ms: float
    p99_ms: float
    generator_cpu_s: float = 0.0

    @property
    def cpu_us_per_message(self) -> float:
        return self.server_cpu_s / max(1, self.rows_delivered) * 1e6

    @property
    def core_share(self) -> float:
        return self.server_cpu_s / self.seconds

    @property
    def generator_core_share(self) -> float:
        return self.generator_cpu_s / self.seconds

    @property
    def lost(self) -> int:
        return self.messages_expected - self.rows_delivered

    def line(self) -> str:
        return (f"| {self.viewers:,} | {self.rows_delivered:,} of {self.messages_expected:,} | "
                f"{self.cpu_us_per_message:.0f} µs | {self.core_share:.0%} | {self.generator_core_share:.0%} | "
                f"{self.p50_ms:.1f} / {self.p99_ms:.1f} ms |")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def server_cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def open_viewers(http: aiohttp.ClientSession, app: AppProcess, stream: str, count: int, *,
                       deflate: bool) -> list[LightViewer]:
    viewers: list[LightViewer] = []
    while len(viewers) < count:
        batch = min(OPEN_AT_ONCE, count - len(viewers))
        viewers += await asyncio.gather(*(open_light_viewer(http, "127.0.0.1", app.port, stream,
                                                          deflate=BROWSER_DEFLATE_OFFER if deflate else None)
                                          for _ in range(batch)))
    return viewers


async def send_lines(http: aiohttp.ClientSession, url: str, seconds: float) -> int:
    count = int(RATE * seconds)
    started = time.monotonic()
    for number in range(count):
        delay = started + number / RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        async with http.post(url, data={"message": message_with_send_time(number)}) as response:
            response.raise_for_status()
    return count


async def measure(app: AppProcess, viewer_counts: list[int], seconds: float, *, deflate: bool = False) -> list[Step]:
    assert app.process is not None
    server = psutil.Process(app.process.pid)
    server.cpu_affinity([SERVER_CORE])
    own_cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {GENERATOR_CORE})
    try:
        return await _steps(app, server, viewer_counts, seconds, deflate=deflate)
    finally:
        os.sched_setaffinity(0, own_cores)


async def _steps(app: AppProcess, server: psutil.Process, viewer_counts: list[int], seconds: float, *,
                 deflate: bool) -> list[Step]:
    steps = []
    connector = aiohttp.TCPConnector(limit=OPEN_AT_ONCE)
    async with aiohttp.ClientSession(connector=connector) as http:
        stream = str(uuid.uuid4())
        viewers: list[LightViewer] = []
        for count in viewer_counts:
            viewers += await open_viewers(http, app, stream, count - len(viewers), deflate=deflate)
            await wait_for_viewers(app.url, count, timeout_s=120)
            # Warm-up, not measured: a page's first rows also write its restart record (one NiceGUI
            # message), so the first line after a step's new pages costs more than a steady stream.
            await send_lines(http, f"{app.url}/live/{stream}", WARM_UP_SECONDS)
            await asyncio.sleep(1)
            for viewer in viewers:
                viewer.arrivals.rows = 0
                viewer.arrivals.delays_ms.clear()
            cpu_before, own_before, started = server_cpu_seconds(server), own_cpu_seconds(), time.monotonic()
            lines = await send_lines(http, f"{app.url}/live/{stream}", seconds)
            await asyncio.sleep(1)  # the last line's fan-out
            cpu, elapsed = server_cpu_seconds(server) - cpu_before, time.monotonic() - started
            own_cpu = own_cpu_seconds() - own_before
            delays = [delay for viewer in viewers for delay in viewer.arrivals.delays_ms]
            steps.append(Step(count, lines, lines * count, sum(v.arrivals.rows for v in viewers), cpu, elapsed,
                              statistics.median(delays) if delays else float("nan"), percentile(delays, 0.99),
                              own_cpu))
            print(steps[-1].line(), flush=True)
            if steps[-1].lost:
                # Sessions that fell behind were cut off by the server (and this client does not come
                # back): the next step would not start with the sessions it counts on.
                break
        for viewer in viewers:
            viewer.close()
    return steps


def most_viewers(steps: list[Step]) -> int | None:
    """The most viewers of any step with delivery p99 within the target and nothing lost."""
    meeting = [step.viewers for step in steps if step.p99_ms <= P99_TARGET_MS and step.lost == 0]
    return max(meeting) if meeting else None


async def measure_capacity(viewer_counts: list[int], seconds: float, *, deflate: bool = False) -> list[Step]:
    """A fresh UI process (memory bus) measured at each viewer count in turn; `deflate`: sockets ask for compression."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the sessions' sockets are all in this process
    with running_app(*SERVER_FLAGS) as app:
        return await measure(app, viewer_counts, seconds, deflate=deflate)


def report(steps: list[Step], seconds: float) -> str:
    most = most_viewers(steps)
    lines = [f"Fan-out capacity of one UI process (memory bus, pinned to one core) at {RATE} lines/s, "
             f"{seconds:.0f} s per step:", "",
             "| viewers | row messages delivered | server CPU per message | server core used | "
             "load generator's core used | delay p50 / p99 |",
             "|---|---|---|---|---|---|", *(step.line() for step in steps), "",
             f"Most viewers with p99 ≤ {P99_TARGET_MS:.0f} ms and nothing lost: {most:,}" if most
             else "No step met the p99 target."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="250,500,1000,2000", help="viewer counts, ascending (comma-separated)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of lines per step (default 10)")
    parser.add_argument("--deflate", action="store_true",
                        help="sockets ask for per-message compression, as browsers do (default: uncompressed)")
    args = parser.parse_args()
    counts = [int(count) for count in args.viewers.split(",")]
    steps = asyncio.run(measure_capacity(counts, args.seconds, deflate=args.deflate))
    print()
    print(report(steps, args.seconds))


if __name__ == "__main__":
    main()
