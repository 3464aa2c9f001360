"""The measurements, each against a running server: ingest, latency, fan-out."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

import aiohttp
from playwright.async_api import Browser

from dashboard.client import BunnyLogsHandler
from harness.servers import AppProcess, ServerProcess, wait_for_viewers

from .pacing import PADDING, send_at_rate
from .processes import ResourceMeter
from .results import (
    BatchedResult,
    BurstResult,
    FanoutResult,
    IngestResult,
    InterleavedIngest,
    LatencyResult,
    latency_result,
)
from .socket_viewers import SocketViewer, open_socket_viewer
from .viewers import (
    lines_counted,
    open_viewer,
    settled_accepted,
    shown_at,
    start_latency_observer,
    wait_for_count,
)
from .wrk import WrkResult, run_wrk

FORM_BODY = "message=GET+%2Fapi%2Fusers+200+in+12ms&level=info&program=web"
FORM_TYPE = "application/x-www-form-urlencoded"
ENTRIES_PAGE = 1000
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


async def single_entry_ingest(app: AppProcess, http: aiohttp.ClientSession, browser: Browser, *,
                              seconds: int, connections: int) -> IngestResult:
    """Form POSTs as fast as wrk sends them, with a Chromium tab whose count must reach what the server accepted."""
    stream = new_stream()
    page = await open_viewer(browser, app.url, stream)
    try:
        await wait_for_viewers(app.url, 1)
        before = await settled_accepted(http, app.url)
        result = await asyncio.to_thread(run_wrk, f"{app.url}/live/{stream}", body=FORM_BODY, content_type=FORM_TYPE,
                                         seconds=seconds, connections=connections)
        accepted = await settled_accepted(http, app.url) - before
        delivered = await wait_until_counted(partial(lines_counted, page), accepted)
    finally:
        await page.close()
    await wait_for_viewers(app.url, 0, timeout_s=30)  # the next run starts with nobody to feed
    return IngestResult(result, accepted, delivered)


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
        await wait_for_viewers(app.url, 1)
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
    await wait_for_viewers(app.url, 0, timeout_s=30)
    return InterleavedIngest(ceilings, runs, accepted, delivered)


async def _rows_of(session: SocketViewer) -> int:
    return session.rows


async def wait_until_counted(count: Callable[[], Awaitable[int]], expected: int, timeout_s: float = 30) -> int:
    """Wait until `count()` reaches `expected` (or time runs out); return the last count."""
    deadline = time.monotonic() + timeout_s
    while (counted := await count()) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return counted


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


async def latency(app: ServerProcess, http: aiohttp.ClientSession, browser: Browser, *, rate: int,
                  seconds: float) -> LatencyResult:
    """Single-line POSTs at `rate`/s; each line's time from its POST to the draw that handled it."""

    async def post_lines(url: str, count: int) -> dict[int, float]:
        return await send_at_rate(url, count=count, rate=rate, message=lambda n: f"lat-{n} {PADDING}")
    return await _timed_lines(app, browser, rate=rate, seconds=seconds, send=post_lines)


async def _timed_lines(app: ServerProcess, browser: Browser, *, rate: int, seconds: float,
                       send: Callable[[str, int], Awaitable[dict[int, float]]]) -> LatencyResult:
    """A fresh tab on a new stream; `send(url, count)` sends `lat-<n>` lines and says when each went."""
    stream = new_stream()
    page = await open_viewer(browser, app.url, stream)
    try:
        await wait_for_viewers(app.url, 1)
        await start_latency_observer(page)
        count = int(rate * seconds)
        sent = await send(f"{app.url}/live/{stream}", count)
        await wait_for_count(page, count, timeout_s=10)
        await asyncio.sleep(0.5)  # the last rows are drawn on the next frame
        shown = await shown_at(page)
    finally:
        await page.close()
    await wait_for_viewers(app.url, 0, timeout_s=30)
    return latency_result(rate, sent, shown)


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
        await wait_for_viewers(app.url, viewers)
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
    await wait_for_viewers(app.url, 0, timeout_s=30)
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
    await wait_for_viewers(app.url, 0, timeout_s=30)


async def handler_latency(app: AppProcess, browser: Browser, *, rate: int, seconds: float) -> LatencyResult:
    """`logger.info()` at `rate`/s through `BunnyLogsHandler`; each record's time from the call to its row."""

    async def log_lines(url: str, count: int) -> dict[int, float]:
        return await asyncio.to_thread(_log_at_rate, url, count, rate)
    return await _timed_lines(app, browser, rate=rate, seconds=seconds, send=log_lines)


def _log_at_rate(url: str, count: int, rate: float) -> dict[int, float]:
    """Log `count` records at `rate`/s from this thread; the epoch ms of each `logger.info` call."""
    logger, handler = _bench_logger(url)
    sent: dict[int, float] = {}
    try:
        started = time.monotonic()
        for number in range(count):
            delay = started + number / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent[number] = time.time() * 1000
            logger.info("lat-%d %s", number, PADDING)
        handler.flush(30)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return sent


def _bench_logger(url: str) -> tuple[logging.Logger, BunnyLogsHandler]:
    logger = logging.getLogger(f"bench.{uuid.uuid4()}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = BunnyLogsHandler(url, program="bench")
    logger.addHandler(handler)
    return logger, handler


async def logging_burst(app: AppProcess, http: aiohttp.ClientSession, *, records: int) -> BurstResult:
    """`records` `logger.info` calls as fast as one thread makes them; all stored in order, in how many requests.

    Each call is timed, and so are as many calls made at a quiet pace first: the cost of a call must
    not grow when the sender is busy.
    """
    stream = new_stream()
    url = f"{app.url}/live/{stream}"
    quiet_ns, burst_ns, requests = await asyncio.to_thread(_burst, url, records)
    stored: list[str] = []
    after = "0-0"
    while True:
        query = {"limit": str(ENTRIES_PAGE), "after": after}
        async with http.get(f"{url}/entries", params=query) as response:
            page = (await response.json())["entries"]
        if not page:
            break
        stored += [entry["message"] for entry in page]
        after = page[-1]["id"]
    in_order = stored == [f"burst {n}" for n in range(records)]
    return BurstResult(records, len(stored), in_order, requests, quiet_ns, burst_ns)


def _burst(url: str, records: int) -> tuple[list[int], list[int], int]:
    logger, handler = _bench_logger(url)
    quiet_logger, quiet_handler = _bench_logger(url.rsplit("/", 1)[0] + f"/{new_stream()}")
    try:
        quiet = []
        for number in range(min(records, 2000)):
            started = time.perf_counter_ns()
            quiet_logger.info("quiet %d", number)
            quiet.append(time.perf_counter_ns() - started)
            time.sleep(0.0005)
        burst = []
        for number in range(records):
            started = time.perf_counter_ns()
            logger.info("burst %d", number)
            burst.append(time.perf_counter_ns() - started)
        if not handler.flush(120):
            raise RuntimeError(f"the handler did not send the burst within 120 s ({handler.sender.sent:,} sent)")
        return quiet, burst, handler.sender.batches_sent
    finally:
        for each_logger, each_handler in ((logger, handler), (quiet_logger, quiet_handler)):
            each_logger.removeHandler(each_handler)
            each_handler.close()
