"""One run of every benchmark, each bus backend in turn, each with its own ceiling measurements."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import aiohttp
from playwright.async_api import Browser

from harness.servers import AppProcess, ServerProcess, chromium, running_app, running_redis

from .fanout_capacity import Step, measure_capacity
from .measures import (
    batched_ingest,
    fanout,
    handler_latency,
    interleaved_ingest,
    latency,
    logging_burst,
    single_entry_ingest,
)
from .pacing import sender_session
from .processes import running_ceiling, running_floor
from .results import (
    BatchedResult,
    BurstResult,
    FanoutResult,
    IngestResult,
    InterleavedIngest,
    LatencyResult,
    LatencyRuns,
)
from .scale_out import ScaleOutResults, run_scale_out


@dataclass(frozen=True)
class Durations:
    """How long each part runs, in seconds."""

    ingest: int = 4
    ingest_rounds: int = 5
    batched: int = 5
    batched_runs: int = 3
    latency_slow: float = 10
    latency_mid: float = 5
    latency_fast: float = 5
    latency_runs: int = 5
    handler_runs: int = 3
    fanout: int = 30
    burst_records: int = 200_000
    capacity_viewers: tuple[int, ...] = (250, 500, 750, 1000, 1500, 2000)
    capacity_seconds: float = 10
    scale_runs: int = 3
    scale_seconds: int = 5
    spread_viewers: int = 200
    spread_rate: int = 20


QUICK = Durations(ingest=2, ingest_rounds=2, batched=2, batched_runs=1, latency_slow=3, latency_mid=2,
                  latency_fast=2, latency_runs=1, handler_runs=1, fanout=5, burst_records=20_000,
                  capacity_viewers=(100, 200), capacity_seconds=3, scale_runs=1, scale_seconds=2, spread_viewers=40,
                  spread_rate=10)
CONNECTIONS = 32
BATCH_CONNECTIONS = 4
SLOW_RATE, MID_RATE, FAST_RATE = 20, 200, 1000
FANOUT_VIEWERS, FANOUT_RATE = 10, 1000
_FLOOR = "the floor"


@dataclass(frozen=True)
class BusResults:
    """Everything measured against one bus backend."""

    bus: str
    ingest: InterleavedIngest
    ingest_tab: IngestResult
    batched: BatchedResult
    latency_slow: LatencyRuns
    latency_mid: LatencyRuns
    latency_fast: LatencyRuns
    handler_slow: LatencyRuns
    handler_fast: LatencyRuns
    burst: BurstResult
    fanout: FanoutResult

    @property
    def ceiling_per_s(self) -> float:
        """The mean of the ceiling runs taken between this bus's single-entry runs."""
        return sum(run.ok_per_second for run in self.ingest.ceilings) / len(self.ingest.ceilings)


@dataclass(frozen=True)
class Floor:
    """The latency floor (bench/floor.py) at each rate, measured in the same run."""

    slow: LatencyRuns
    mid: LatencyRuns
    fast: LatencyRuns


@dataclass(frozen=True)
class SuiteResults:
    buses: list[BusResults]
    floor: Floor
    capacity: list[Step]
    scale_out: ScaleOutResults


@contextlib.contextmanager
def bunnylogs_on(bus: str, *extra: str) -> Iterator[AppProcess]:
    """A BunnyLogs server (all roles, no history) on the named bus; Redis gets its own redis-server."""
    # wrk sends thousands of requests per second from one address to one stream: far past the default
    # limits. They stay on (their cost is part of what is measured), set where the load never meets them.
    args = ("--history", "0", "--log-level", "warning", "--client-requests-per-second", "1000000",
            "--stream-entries-per-second", "1000000", "--stream-bytes-per-second", "1000000000", *extra)
    if bus == "memory":
        with running_app(*args) as app:
            yield app
    else:
        with running_redis() as redis, running_app(*args, "--redis-url", redis.url) as app:
            yield app


async def run_suite(durations: Durations, buses: list[str], say: Callable[[str], None] = print) -> SuiteResults:
    """Measure each bus in turn; `say` reports progress.

    Each single-entry run with a page session sits between two ceiling runs and is compared with
    them: on a shared machine the speed of the whole box drifts between runs.
    """
    results = []
    with running_ceiling() as ceiling:
        async with chromium() as browser, sender_session() as http:
            latencies, floor = await interleaved_latency(durations, buses, http, browser, say)
            for bus in buses:
                with bunnylogs_on(bus) as app:
                    say(f"{bus}: {durations.ingest_rounds} single-entry ingest runs with one page session, "
                        f"between ceiling runs, {durations.ingest} s each")
                    ingest = await interleaved_ingest(app, http, ceiling.url, rounds=durations.ingest_rounds,
                                                      seconds=durations.ingest, connections=CONNECTIONS)
                    say(f"{bus}: single-entry ingest with one Chromium tab, {durations.ingest} s")
                    ingest_tab = await single_entry_ingest(app, http, browser, seconds=durations.ingest,
                                                           connections=CONNECTIONS)
                    say(f"{bus}: batched ingest, {durations.batched_runs} runs of {durations.batched} s")
                    batched = await batched_ingest(app, runs=durations.batched_runs, seconds=durations.batched,
                                                   connections=BATCH_CONNECTIONS)
                    handler = []
                    for rate, seconds in ((SLOW_RATE, durations.latency_slow), (FAST_RATE, durations.latency_fast)):
                        say(f"{bus}: logger.info → row at {rate:,} records/s, {durations.handler_runs} runs of "
                            f"{seconds} s")
                        handler.append(LatencyRuns([await handler_latency(app, browser, rate=rate, seconds=seconds)
                                                    for _ in range(durations.handler_runs)]))
                    say(f"{bus}: fan-out to {FANOUT_VIEWERS} viewers at {FANOUT_RATE} lines/s, {durations.fanout} s")
                    spread = await fanout(app, http, viewers=FANOUT_VIEWERS, rate=FANOUT_RATE,
                                          seconds=durations.fanout)
                say(f"{bus}: a burst of {durations.burst_records:,} logger.info calls (a server that keeps them all)")
                with bunnylogs_on(bus, "--max-stream-length", str(durations.burst_records)) as app:
                    burst = await logging_burst(app, http, records=durations.burst_records)
                slow, mid, fast = latencies[bus]
                handler_slow, handler_fast = handler
                results.append(BusResults(bus, ingest, ingest_tab, batched, slow, mid, fast, handler_slow, handler_fast,
                                          burst, spread))
    say(f"fan-out capacity of one UI process at 10 lines/s: {', '.join(map(str, durations.capacity_viewers))} "
        f"viewers, {durations.capacity_seconds} s each")
    capacity = await measure_capacity(list(durations.capacity_viewers), durations.capacity_seconds)
    say("through nginx: ingest with 1 and 2 workers, then page sessions over 2 UI processes")
    scale_out = await run_scale_out(runs=durations.scale_runs, seconds=durations.scale_seconds,
                                    viewers=durations.spread_viewers, rate=durations.spread_rate)
    return SuiteResults(results, floor, capacity, scale_out)


async def interleaved_latency(durations: Durations, buses: list[str], http: aiohttp.ClientSession, browser: Browser,
                              say: Callable[[str], None]) -> tuple[dict[str, list[LatencyRuns]], Floor]:
    """POST → visible on each bus and on the floor at each rate, their runs taken in turn.

    The machine's speed drifts over minutes, so one server's runs all taken before another's would
    compare two moments as much as two designs. Every server is up for the whole part; each round
    runs each once, and each round starts with the next one in turn.
    """
    rates = ((SLOW_RATE, durations.latency_slow), (MID_RATE, durations.latency_mid),
             (FAST_RATE, durations.latency_fast))
    with contextlib.ExitStack() as servers_up:
        servers: dict[str, ServerProcess] = {bus: servers_up.enter_context(bunnylogs_on(bus)) for bus in buses}
        servers[_FLOOR] = servers_up.enter_context(running_floor())
        names = list(servers)
        found: dict[str, list[LatencyRuns]] = {name: [] for name in names}
        for rate, seconds in rates:
            rounds = f"{durations.latency_runs} round{'s' if durations.latency_runs != 1 else ''}"
            say(f"latency at {rate:,} lines/s: {rounds} of {seconds} s on "
                f"{', '.join(names)} in turn")
            runs: dict[str, list[LatencyResult]] = {name: [] for name in names}
            for round_number in range(durations.latency_runs):
                turn = round_number % len(names)
                for name in names[turn:] + names[:turn]:
                    runs[name].append(await latency(servers[name], http, browser, rate=rate, seconds=seconds))
            for name in names:
                found[name].append(LatencyRuns(runs[name]))
    floor = found.pop(_FLOOR)
    return found, Floor(*floor)
