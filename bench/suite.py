"""One run of every benchmark, each bus backend in turn, each with its own ceiling measurements."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from tests.support import AppProcess, running_app, running_redis

from .measures import (
    FanoutResult,
    IngestResult,
    LatencyResult,
    batched_ingest,
    ceiling_rate,
    fanout,
    latency,
    single_entry_ingest,
)
from .pacing import sender_session
from .processes import running_ceiling
from .viewers import chromium
from .wrk import WrkResult


@dataclass(frozen=True)
class Durations:
    """How long each part runs, in seconds."""

    ingest: int = 10
    latency_slow: float = 10
    latency_fast: float = 5
    fanout: int = 30


QUICK = Durations(ingest=3, latency_slow=3, latency_fast=2, fanout=5)
CONNECTIONS = 32
BATCH_CONNECTIONS = 4
SLOW_RATE, FAST_RATE = 20, 1000
FANOUT_VIEWERS, FANOUT_RATE = 10, 1000


@dataclass(frozen=True)
class BusResults:
    """Everything measured against one bus backend."""

    bus: str
    ceilings: list[WrkResult]
    ingest: IngestResult
    ingest_tab: IngestResult
    batched_entries_per_s: float
    latency_slow: LatencyResult
    latency_fast: LatencyResult
    fanout: FanoutResult


    @property
    def ceiling_per_s(self) -> float:
        """The reference requests/s for this bus: the mean of the ceilings measured around its ingest runs."""
        return sum(run.ok_per_second for run in self.ceilings) / len(self.ceilings)


@dataclass(frozen=True)
class SuiteResults:
    buses: list[BusResults]


@contextlib.contextmanager
def bunnylogs_on(bus: str) -> Iterator[AppProcess]:
    """A BunnyLogs server (all roles, no history) on the named bus; Redis gets its own redis-server."""
    args = ("--history", "0", "--log-level", "warning")
    if bus == "memory":
        with running_app(*args) as app:
            yield app
    else:
        with running_redis() as redis_url, running_app(*args, "--redis-url", redis_url) as app:
            yield app


async def run_suite(durations: Durations, buses: list[str], say=print) -> SuiteResults:
    """Measure each bus in turn; `say` reports progress.

    The ceiling is measured just before and just after each bus's single-entry runs, and their mean
    is that bus's reference: on a shared machine the speed of the whole box drifts between runs.
    """
    results = []
    with running_ceiling() as ceiling:
        async with chromium() as browser, sender_session() as http:
            for bus in buses:
                with bunnylogs_on(bus) as app:
                    say(f"{bus}: ceiling, bare Starlette no-op, {durations.ingest} s")
                    ceilings = [await ceiling_rate(ceiling.url, durations.ingest, CONNECTIONS)]
                    say(f"{bus}: single-entry ingest with one page session, {durations.ingest} s")
                    ingest = await single_entry_ingest(app, http, None, seconds=durations.ingest,
                                                       connections=CONNECTIONS)
                    say(f"{bus}: single-entry ingest with one Chromium tab, {durations.ingest} s")
                    ingest_tab = await single_entry_ingest(app, http, browser, seconds=durations.ingest,
                                                           connections=CONNECTIONS)
                    say(f"{bus}: ceiling again, {durations.ingest} s")
                    ceilings.append(await ceiling_rate(ceiling.url, durations.ingest, CONNECTIONS))
                    say(f"{bus}: batched ingest, {durations.ingest} s")
                    batched = await batched_ingest(app, seconds=durations.ingest, connections=BATCH_CONNECTIONS)
                    say(f"{bus}: latency at {SLOW_RATE} lines/s, {durations.latency_slow} s")
                    slow = await latency(app, http, browser, rate=SLOW_RATE, seconds=durations.latency_slow)
                    say(f"{bus}: latency at {FAST_RATE} lines/s, {durations.latency_fast} s")
                    fast = await latency(app, http, browser, rate=FAST_RATE, seconds=durations.latency_fast)
                    say(f"{bus}: fan-out to {FANOUT_VIEWERS} viewers at {FANOUT_RATE} lines/s, {durations.fanout} s")
                    spread = await fanout(app, http, viewers=FANOUT_VIEWERS, rate=FANOUT_RATE,
                                          seconds=durations.fanout)
                results.append(BusResults(bus, ceilings, ingest, ingest_tab, batched, slow, fast, spread))
    return SuiteResults(results)
