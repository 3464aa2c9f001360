"""The measurements, each against a running server: ingest, latency, fan-out."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import aiohttp
from playwright.async_api import Browser

from tests.support import AppProcess

from .pacing import PADDING, send_at_rate
from .processes import ResourceMeter
from .socket_viewers import SocketViewer, open_socket_viewer
from .viewers import (
    lines_counted,
    open_viewer,
    settled_accepted,
    shown_at,
    start_latency_observer,
    wait_for_count,
    wait_for_viewers,
)
from .wrk import WrkResult, run_wrk

FORM_BODY = "message=GET+%2Fapi%2Fusers+200+in+12ms&level=info&program=web"
FORM_TYPE = "application/x-www-form-urlencoded"
BATCH_SIZE = 500


def new_stream() -> str:
    return str(uuid.uuid4())


def batch_body(size: int = BATCH_SIZE) -> str:
    """A JSON array of `size` typical entries."""
    return json.dumps([{"message": f"request {n} served" + PADDING, "level": ("info", "debug", "warning")[n % 3],
                        "program": f"svc-{n % 5}"} for n in range(size)])


async def ceiling_rate(url: str, seconds: int, connections: int) -> WrkResult:
    """Requests/s the no-op server answers."""
    return await asyncio.to_thread(run_wrk, f"{url}/live/{new_stream()}", body=FORM_BODY, content_type=FORM_TYPE,
                                   seconds=seconds, connections=connections)


@dataclass(frozen=True)
class IngestResult:
    """Single-entry form POSTs with one viewer: rate and delivery."""

    wrk: WrkResult
    accepted: int
    delivered: int

    @property
    def lost(self) -> int:
        return self.accepted - self.delivered


async def single_entry_ingest(app: AppProcess, http: aiohttp.ClientSession, browser: Browser, *,
                              seconds: int, connections: int) -> IngestResult:
    """Form POSTs as fast as wrk sends them, with a Chromium tab whose count must reach what the server accepted."""
    stream = new_stream()
    page = await open_viewer(browser, app.url, stream)
    try:
        await wait_for_viewers(http, app.url, 1)
        before = await settled_accepted(http, app.url)
        result = await asyncio.to_thread(run_wrk, f"{app.url}/live/{stream}", body=FORM_BODY, content_type=FORM_TYPE,
                                         seconds=seconds, connections=connections)
        accepted = await settled_accepted(http, app.url) - before
        delivered = await wait_until_counted(partial(lines_counted, page), accepted)
    finally:
        await page.close()
    await wait_for_viewers(http, app.url, 0, timeout_s=30)  # the next run starts with nobody to feed
    return IngestResult(result, accepted, delivered)


@dataclass(frozen=True)
class InterleavedIngest:
    """Single-entry ingest runs, each between two ceiling runs, with one page session following throughout."""

    ceilings: list[WrkResult]  # one before each run, and one after the last
    runs: list[WrkResult]
    accepted: int
    delivered: int

    @property
    def lost(self) -> int:
        return self.accepted - self.delivered

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


async def interleaved_ingest(app: AppProcess, http: aiohttp.ClientSession, ceiling_url: str, *, rounds: int,
                             seconds: int, connections: int) -> InterleavedIngest:
    """Ceiling, ingest, ceiling, ingest, ..., ceiling: each ingest run is compared with the runs around it.

    This machine's speed drifts by up to 2x within minutes, so a ceiling measured once is not a fair
    reference for a run taken later. One page session follows the stream, and must be sent every
    entry the server accepted.
    """
    stream = new_stream()
    session = await open_socket_viewer(http, app.url, stream)
    try:
        await wait_for_viewers(http, app.url, 1)
        before = await settled_accepted(http, app.url)
        ceilings = [await ceiling_rate(ceiling_url, seconds, connections)]
        runs = []
        for _ in range(rounds):
            runs.append(await asyncio.to_thread(run_wrk, f"{app.url}/live/{stream}", body=FORM_BODY,
                                                content_type=FORM_TYPE, seconds=seconds, connections=connections))
            ceilings.append(await ceiling_rate(ceiling_url, seconds, connections))
        accepted = await settled_accepted(http, app.url) - before
        delivered = await wait_until_counted(partial(_rows_of, session), accepted)
    finally:
        await session.close()
    await wait_for_viewers(http, app.url, 0, timeout_s=30)
    return InterleavedIngest(ceilings, runs, accepted, delivered)


async def _rows_of(session: SocketViewer) -> int:
    return session.rows


async def wait_until_counted(count: Callable[[], Awaitable[int]], expected: int, timeout_s: float = 30) -> int:
    """Wait until `count()` reaches `expected` (or time runs out); return the last count."""
    deadline = time.monotonic() + timeout_s
    while (counted := await count()) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return counted


@dataclass(frozen=True)
class BatchedResult:
    """Entries/s in JSON arrays, over several runs."""

    runs: list[float]

    @property
    def entries_per_s(self) -> float:
        """The median run."""
        return statistics.median(self.runs)


async def batched_ingest(app: AppProcess, *, runs: int, seconds: int, connections: int) -> BatchedResult:
    """Entries/s in JSON arrays of 500 (no viewer), in `runs` separate runs."""
    rates = []
    for _ in range(runs):
        result = await asyncio.to_thread(run_wrk, f"{app.url}/live/{new_stream()}", body=batch_body(),
                                         content_type="application/json", seconds=seconds, connections=connections)
        if result.not_2xx:
            raise RuntimeError(f"{result.not_2xx} batches were refused")
        rates.append(result.ok_per_second * BATCH_SIZE)
    return BatchedResult(rates)


@dataclass(frozen=True)
class LatencyResult:
    """POST → row in the page, in milliseconds."""

    rate: int
    samples: list[float]
    not_seen: int

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def latency(app: AppProcess, http: aiohttp.ClientSession, browser: Browser, *, rate: int,
                  seconds: float) -> LatencyResult:
    """Single-line POSTs at `rate`/s; each line's time from just before its POST to its row entering the page."""
    stream = new_stream()
    page = await open_viewer(browser, app.url, stream)
    try:
        await wait_for_viewers(http, app.url, 1)
        await start_latency_observer(page)
        count = int(rate * seconds)
        sent = await send_at_rate(f"{app.url}/live/{stream}", count=count, rate=rate,
                                  message=lambda n: f"lat-{n} {PADDING}")
        await wait_for_count(page, count, timeout_s=10)
        await asyncio.sleep(0.5)  # the last rows are drawn on the next frame
        shown = await shown_at(page)
    finally:
        await page.close()
    await wait_for_viewers(http, app.url, 0, timeout_s=30)
    samples = [shown[n] - sent[n] for n in sent if n in shown]
    return LatencyResult(rate, samples, not_seen=count - len(samples))


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


async def fanout(app: AppProcess, http: aiohttp.ClientSession, *, viewers: int, rate: int,
                 seconds: int) -> FanoutResult:
    """`viewers` page sessions on one stream; `rate` single-line POSTs/s for `seconds`; server CPU and memory."""
    assert app.process is not None
    meter = ResourceMeter(app.process.pid)
    await _warm_up(app, http)
    rss_before = meter.rss_mb()
    stream = new_stream()
    sessions = [await open_socket_viewer(http, app.url, stream) for _ in range(viewers)]
    try:
        await wait_for_viewers(http, app.url, viewers)
        await asyncio.sleep(3)
        rss_idle = meter.rss_mb()
        before = await settled_accepted(http, app.url)
        meter.cpu_percent_since_last_call()
        await send_at_rate(f"{app.url}/live/{stream}", count=rate * seconds, rate=rate,
                           message=lambda n: f"line {n}{PADDING}")
        cpu = meter.cpu_percent_since_last_call()
        accepted = await settled_accepted(http, app.url) - before
        counts = [await wait_until_counted(partial(_rows_of, session), accepted) for session in sessions]
        rss_after = meter.rss_mb()
    finally:
        for session in sessions:
            await session.close()
    await wait_for_viewers(http, app.url, 0, timeout_s=30)
    return FanoutResult(viewers=viewers, rate=rate, seconds=seconds, sent=accepted,
                        lost=sum(accepted - counted for counted in counts), cpu_percent=cpu,
                        rss_before_mb=rss_before, rss_idle_mb=rss_idle, rss_after_mb=rss_after)


async def _warm_up(app: AppProcess, http: aiohttp.ClientSession) -> None:
    """Open and close a couple of sessions, so one-time costs (imports, templates) are not counted per viewer."""
    stream = new_stream()
    sessions = [await open_socket_viewer(http, app.url, stream) for _ in range(2)]
    await send_at_rate(f"{app.url}/live/{stream}", count=200, rate=1000, message=lambda n: f"warm {n}")
    for session in sessions:
        await session.close()
    await wait_for_viewers(http, app.url, 0, timeout_s=30)
