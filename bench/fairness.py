"""Fairness: one stream flooded at 5,000 lines/s must not delay another stream's viewer.

`python -m bench.fairness` starts a server (memory bus, or `--bus redis`), follows a quiet stream
with a page session (its own socket, driven from Python as in the fan-out benchmark) and sends it
20 lines/s; it measures each line's time from its POST to its row reaching that socket, first
alone, then while another stream, followed by a page session of its own, takes 5,000 lines/s in
batches of 100. The load generators run on the same machine: their CPU is part of the picture.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from contextlib import ExitStack

import aiohttp

from harness.servers import AppProcess, running_app, running_redis

from .pacing import send_at_rate
from .socket_viewers import open_socket_viewer

QUIET_RATE = 20
FLOOD_RATE = 5000
FLOOD_BATCH = 100


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def quiet_latencies(app: AppProcess, http: aiohttp.ClientSession, seconds: float) -> list[float]:
    """POST → row on the quiet stream's socket, in ms, for `seconds` of lines at QUIET_RATE."""
    stream = str(uuid.uuid4())
    viewer = await open_socket_viewer(http, app.url, stream, record_arrivals=True)
    try:
        count = int(QUIET_RATE * seconds)
        sent = await send_at_rate(f"{app.url}/live/{stream}", count=count, rate=QUIET_RATE,
                                  message=lambda n: f"quiet {n}")
        deadline = time.monotonic() + 10
        assert viewer.arrived is not None
        while len(viewer.arrived) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return [viewer.arrived[f"quiet {n}"] - sent_ms for n, sent_ms in sent.items() if f"quiet {n}" in viewer.arrived]
    finally:
        await viewer.close()


async def flood(app: AppProcess, http: aiohttp.ClientSession, stop: asyncio.Event) -> int:
    """FLOOD_RATE lines/s into another stream, followed by a page session, until `stop`; lines sent."""
    stream = str(uuid.uuid4())
    viewer = await open_socket_viewer(http, app.url, stream)
    body = [{"message": f"flood line {n}", "level": "debug"} for n in range(FLOOD_BATCH)]
    sent = 0
    started = time.monotonic()
    try:
        while not stop.is_set():
            async with http.post(f"{app.url}/live/{stream}", json=body) as response:
                if response.status != 204:
                    raise RuntimeError(f"the flood was refused: {response.status}")
            sent += FLOOD_BATCH
            ahead = started + sent / FLOOD_RATE - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
    finally:
        await viewer.close()
    return sent


async def run(bus: str, seconds: float) -> None:
    with ExitStack() as stack:
        # The flood is at the default per-stream limit: raise it, so that the flood is taken, not refused.
        args = ["--stream-entries-per-second", str(FLOOD_RATE * 4)]
        if bus == "redis":
            args += ["--redis-url", stack.enter_context(running_redis()).url]
        app = stack.enter_context(running_app(*args))
        async with aiohttp.ClientSession() as http:
            await quiet_latencies(app, http, 2)  # warm-up
            alone = await quiet_latencies(app, http, seconds)
            stop = asyncio.Event()
            flooding = asyncio.create_task(flood(app, http, stop))
            await asyncio.sleep(2)
            started = time.monotonic()
            beside = await quiet_latencies(app, http, seconds)
            stop.set()
            flooded = await flooding
            flood_rate = flooded / (time.monotonic() - started + 2)
    print(f"bus: {bus}; quiet stream at {QUIET_RATE} lines/s, POST → row on its page socket, ms")
    for label, values in (("alone", alone), (f"beside a flood of {flood_rate:,.0f} lines/s", beside)):
        print(f"  {label:<36} p50 {statistics.median(values):6.1f}   p99 {percentile(values, 0.99):6.1f}   "
              f"({len(values)} lines)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fairness", description=__doc__.splitlines()[0])
    parser.add_argument("--bus", choices=["memory", "redis"], default="memory")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    asyncio.run(run(args.bus, args.seconds))


if __name__ == "__main__":
    main()
