"""One run of every benchmark, each bus backend in turn, each with its own ceiling measurements."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from harness.servers import AppProcess, chromium, running_app, running_redis

from .measures import batched_ingest, fanout, interleaved_ingest, latency_runs, single_entry_ingest
from .pacing import sender_session
from .processes import running_ceiling
from .results import BatchedResult, FanoutResult, IngestResult, InterleavedIngest, LatencyRuns


@dataclass(frozen=True)
class Durations:
    """How long each part runs, in seconds."""

    ingest: int = 4
    ingest_rounds: int = 5
    batched: int = 5
    batched_runs: int = 3
    latency_slow: float = 10
    latency_fast: float = 5
    latency_runs: int = 3
    fanout: int = 30


QUICK = Durations(ingest=2, ingest_rounds=2, batched=2, batched_runs=1, latency_slow=3, latency_fast=2,
                  latency_runs=1, fanout=5)
CONNECTIONS = 32
BATCH_CONNECTIONS = 4
SLOW_RATE, FAST_RATE = 20, 1000
FANOUT_VIEWERS, FANOUT_RATE = 10, 1000


@dataclass(frozen=True)
class BusResults:
    """Everything measured against one bus backend."""

    bus: str
    ingest: InterleavedIngest
    ingest_tab: IngestResult
    batched: BatchedResult
    latency_slow: LatencyRuns
    latency_fast: LatencyRuns
    fanout: FanoutResult

    @property
    def ceiling_per_s(self) -> float:
        """The mean of the ceiling runs taken between this bus's single-entry runs."""
        return sum(run.ok_per_second for run in self.ingest.ceilings) / len(self.ingest.ceilings)


@dataclass(frozen=True)
class SuiteResults:
    buses: list[BusResults]


@contextlib.contextmanager
def bunnylogs_on(bus: str) -> Iterator[AppProcess]:
    """A BunnyLogs server (all roles, no history) on the named bus; Redis gets its own redis-server."""
    # wrk sends thousands of requests per second from one address to one stream: far past the default
    # limits. They stay on (their cost is part of what is measured), set where the load never meets them.
    args = ("--history", "0", "--log-level", "warning", "--client-requests-per-second", "1000000",
            "--stream-entries-per-second", "1000000", "--stream-bytes-per-second", "1000000000")
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
                    say(f"{bus}: latency at {SLOW_RATE} lines/s, {durations.latency_runs} runs of "
                        f"{durations.latency_slow} s")
                    slow = await latency_runs(app, http, browser, rate=SLOW_RATE, seconds=durations.latency_slow,
                                              runs=durations.latency_runs)
                    say(f"{bus}: latency at {FAST_RATE} lines/s, {durations.latency_runs} runs of "
                        f"{durations.latency_fast} s")
                    fast = await latency_runs(app, http, browser, rate=FAST_RATE, seconds=durations.latency_fast,
                                              runs=durations.latency_runs)
                    say(f"{bus}: fan-out to {FANOUT_VIEWERS} viewers at {FANOUT_RATE} lines/s, {durations.fanout} s")
                    spread = await fanout(app, http, viewers=FANOUT_VIEWERS, rate=FANOUT_RATE,
                                          seconds=durations.fanout)
                results.append(BusResults(bus, ingest, ingest_tab, batched, slow, fast, spread))
    return SuiteResults(results)
