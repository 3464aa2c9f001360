"""Scale-out through nginx: ingest with 1 and with 2 workers, and viewers spread over 2 UI processes.

deploy/nginx/bunnylogs-cluster.conf (as shipped) in front of one ingest process (`--workers 1`,
then `--workers 2`; both of the config's ingest upstreams point at it), two UI processes and one
redis-server. wrk sends single-entry form POSTs, then JSON arrays of 500, through nginx; each
process's CPU is read from its own accounting over the run (what limits the next step). Then page
sessions opened through nginx (each with its own affinity cookie) follow one stream on both UI
processes while lines are POSTed through nginx: every session must get every line.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil

from harness.servers import AppProcess, NginxServer, ServerProcess, running_app, running_nginx, running_redis

from .light_viewers import LightViewer, message_with_send_time, open_light_viewer
from .measures import BATCH_SIZE, FORM_BODY, FORM_TYPE, batch_body
from .wrk import run_wrk

SITE = Path(__file__).parents[1] / "deploy" / "nginx" / "bunnylogs-cluster.conf"
# Limits far above the load: this measures throughput, not the limits (whose cost stays in).
UNLIMITED = ("--log-level", "warning", "--client-requests-per-second", "1000000", "--stream-entries-per-second",
             "100000000", "--stream-bytes-per-second", "100000000000", "--max-connections-per-client", "0",
             "--viewers-per-stream", "0", "--viewers-per-client", "0", "--trust-x-forwarded-for")
CONNECTIONS = 32
BATCH_CONNECTIONS = 32


@dataclass(frozen=True)
class IngestRun:
    """One wrk run through nginx, and the CPU each part took (% of one core)."""

    per_second: float  # requests/s (single entries) or entries/s (batches)
    refused: int
    cpu: dict[str, float]


@dataclass(frozen=True)
class WorkersResult:
    workers: int
    single: list[IngestRun]
    batched: list[IngestRun]

    @property
    def single_per_s(self) -> float:
        return statistics.median(run.per_second for run in self.single)

    @property
    def batched_per_s(self) -> float:
        return statistics.median(run.per_second for run in self.batched)


@dataclass(frozen=True)
class SpreadResult:
    """Page sessions through nginx over two UI processes."""

    viewers_per_process: list[int]
    lines: int
    delivered: int
    expected: int
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class ScaleOutResults:
    workers: list[WorkersResult]
    spread: SpreadResult


class CpuMeter:
    """CPU time of named processes (and their children) between `start` and `stop`, in % of one core."""

    def __init__(self, processes: dict[str, ServerProcess]) -> None:
        self._groups = {name: _with_children(server) for name, server in processes.items()}
        self._before: dict[str, float] = {}
        self._started = 0.0

    def start(self) -> None:
        self._before = {name: _cpu(group) for name, group in self._groups.items()}
        self._started = asyncio.get_running_loop().time()

    def stop(self) -> dict[str, float]:
        elapsed = asyncio.get_running_loop().time() - self._started
        return {name: 100 * (_cpu(group) - self._before[name]) / elapsed for name, group in self._groups.items()}


def _with_children(server: ServerProcess) -> list[psutil.Process]:
    assert server.process is not None
    parent = psutil.Process(server.process.pid)
    return [parent, *parent.children(recursive=True)]


def _cpu(group: list[psutil.Process]) -> float:
    total = 0.0
    for process in group:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


@contextlib.contextmanager
def cluster(workers: int) -> Iterator[tuple[NginxServer, dict[str, ServerProcess], list[AppProcess]]]:
    """redis-server, one ingest process with `workers`, two UI processes, nginx with the shipped cluster config."""
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(running_redis())
        ingest = stack.enter_context(running_app("--role", "ingest", "--redis-url", redis.url, "--workers",
                                                 str(workers), *UNLIMITED))
        ui = [stack.enter_context(running_app("--role", "ui", "--redis-url", redis.url, "--history", "0", *UNLIMITED))
              for _ in range(2)]
        nginx = stack.enter_context(running_nginx(SITE, {8001: ingest.port, 8002: ingest.port,
                                                         8101: ui[0].port, 8102: ui[1].port}))
        yield nginx, {"redis": redis, "ingest": ingest, "nginx": nginx}, ui


async def ingest_runs(workers: int, *, runs: int, seconds: int) -> WorkersResult:
    """Single-entry and batched ingest through nginx to one ingest process with `workers` workers."""
    single, batched = [], []
    with cluster(workers) as (nginx, parts, _ui):
        meter = CpuMeter(parts)
        for _ in range(runs):
            meter.start()
            result = await asyncio.to_thread(run_wrk, f"{nginx.url}/live/{uuid.uuid4()}", body=FORM_BODY,
                                             content_type=FORM_TYPE, seconds=seconds, connections=CONNECTIONS)
            single.append(IngestRun(result.ok_per_second, result.not_2xx, meter.stop()))
        for _ in range(runs):
            meter.start()
            result = await asyncio.to_thread(run_wrk, f"{nginx.url}/live/{uuid.uuid4()}", body=batch_body(),
                                             content_type="application/json", seconds=seconds,
                                             connections=BATCH_CONNECTIONS)
            batched.append(IngestRun(result.ok_per_second * BATCH_SIZE, result.not_2xx, meter.stop()))
    return WorkersResult(workers, single, batched)


async def spread_over_ui(*, viewers: int, rate: int, seconds: int) -> SpreadResult:
    """`viewers` page sessions through nginx on one stream; `rate` lines/s POSTed through nginx."""
    with cluster(2) as (nginx, _parts, ui):
        stream = str(uuid.uuid4())
        host, port = "127.0.0.1", nginx.port
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            sessions: list[LightViewer] = []
            for _ in range(viewers):
                sessions.append(await open_light_viewer(http, host, port, stream, affinity_cookie=True))
            counts = [await _viewers(http, process) for process in ui]
            count = rate * seconds
            for number in range(count):
                async with http.post(f"{nginx.url}/live/{stream}",
                                     data={"message": message_with_send_time(number)}) as response:
                    response.raise_for_status()
                await asyncio.sleep(1 / rate)
            deadline = asyncio.get_running_loop().time() + 30
            while (sum(session.arrivals.rows for session in sessions) < count * viewers
                   and asyncio.get_running_loop().time() < deadline):
                await asyncio.sleep(0.1)
            delays = sorted(delay for session in sessions for delay in session.arrivals.delays_ms)
            delivered = sum(session.arrivals.rows for session in sessions)
            for session in sessions:
                session.close()
    return SpreadResult(counts, count, delivered, count * viewers, statistics.median(delays),
                        delays[min(len(delays) - 1, int(0.99 * len(delays)))])


async def _viewers(http: aiohttp.ClientSession, process: AppProcess) -> int:
    async with http.get(f"{process.url}/healthz") as response:
        return int((await response.json())["viewers"])


async def run_scale_out(*, runs: int, seconds: int, viewers: int, rate: int) -> ScaleOutResults:
    """Ingest with 1 and 2 workers, then the spread over two UI processes."""
    workers = [await ingest_runs(count, runs=runs, seconds=seconds) for count in (1, 2)]
    spread = await spread_over_ui(viewers=viewers, rate=rate, seconds=seconds)
    return ScaleOutResults(workers, spread)
