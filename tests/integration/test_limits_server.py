"""Limits on real servers, on both buses: 429s that name the limit, one limit shared by two processes on
one Redis, and clients (`BunnyLogsHandler`, `bunnylogs pipe`) that wait as told and lose nothing."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from dashboard.client import BunnyLogsHandler
from dashboard.rate_limit import RateLimit, open_storage
from harness.servers import AppProcess, RedisServer, free_port, running_app

from .test_handler import new_logger, read_all

BUNNYLOGS = [sys.executable, "-m", "dashboard"]
# 1,000 entries per 1 s window per stream: the clients below send 2,000 at once.
TIGHT = ("--stream-entries-per-second", "1000", "--burst-seconds", "1")
LINES = 2000


@contextlib.contextmanager
def server_on(bus: str, redis_url: str, *args: str) -> Iterator[AppProcess]:
    extra = ("--redis-url", redis_url) if bus == "redis" else ()
    with running_app(*args, *extra) as app:
        yield app


def limited(app: AppProcess) -> dict[str, int]:
    return httpx.get(f"{app.url}/healthz").json()["limited"]


@pytest.mark.parametrize("bus", ["memory", "redis"])
def test_a_client_over_its_request_rate_gets_429s_that_name_the_limit(bus: str, redis_url: str) -> None:
    # 30 per 30 s, on one kept-alive connection: the 36 requests fit in the window also on a busy machine
    # (with 10 per 10 s and a connection each, a loaded CI run let the window slide past the first two).
    with server_on(bus, redis_url, "--client-requests-per-second", "1", "--burst-seconds", "30") as app, \
            httpx.Client() as http:
        url = f"{app.url}/live/{uuid.uuid4()}"
        statuses = [http.post(url, data={"message": f"m{n}"}).status_code for n in range(35)]
        # The window slides, so once in a while a 31st fits.
        assert statuses[:30] == [204] * 30 and statuses[-4:] == [429] * 4
        refused = http.post(url, data={"message": "one more"})
        assert refused.status_code == 429
        assert "--client-requests-per-second" in refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 30
        assert limited(app) == {"--client-requests-per-second": statuses.count(429) + 1}
        assert len(read_all(app.url, url.rsplit("/", 1)[1])) == statuses.count(204)


def test_a_forged_x_forwarded_for_is_no_new_client_unless_the_proxy_is_trusted() -> None:
    with running_app("--client-requests-per-second", "1", "--burst-seconds", "10") as app:  # 10 per 10 s
        url = f"{app.url}/live/{uuid.uuid4()}"
        statuses = [httpx.post(url, data={"message": f"m{n}"}, headers={"x-forwarded-for": f"198.51.100.{n}"})
                    .status_code for n in range(15)]
        assert statuses.count(429) >= 4, "each request claimed another address, and none was believed"


def test_two_processes_on_one_redis_share_a_streams_limit(redis_url: str) -> None:
    args = ("--stream-entries-per-second", "10", "--burst-seconds", "10", "--redis-url", redis_url)  # 100 per 10 s
    with running_app(*args) as first, running_app(*args) as second:
        stream = str(uuid.uuid4())
        accepted = 0
        with httpx.Client() as http:
            for n in range(80):  # 80 to each: under the limit for either alone, over it for both
                for app in (first, second):
                    accepted += http.post(f"{app.url}/live/{stream}", data={"message": f"m{n}"}).status_code == 204
        # The window slides while we post: a few more may pass, never the 160 of two separate limits.
        assert 95 <= accepted <= 106
        assert limited(first)["--stream-entries-per-second"] > 0
        assert limited(second)["--stream-entries-per-second"] > 0
        assert len(read_all(first.url, stream)) == accepted


@pytest.mark.parametrize("bus", ["memory", "redis"])
def test_the_handler_over_a_limit_waits_as_told_and_loses_nothing(bus: str, redis_url: str) -> None:
    with server_on(bus, redis_url, *TIGHT) as app:
        stream = str(uuid.uuid4())
        handler = BunnyLogsHandler(f"{app.url}/live/{stream}", program="limited")
        logger = new_logger(handler)
        for n in range(LINES):
            logger.info("line %d", n)
        assert handler.flush(timeout=60)
        handler.close()
        assert (handler.lost, handler.rejected) == (0, 0)
        assert handler.sender.retries > 0
        assert limited(app)["--stream-entries-per-second"] > 0
        assert [entry["message"] for entry in read_all(app.url, stream)] == [f"line {n}" for n in range(LINES)]


@pytest.mark.parametrize("bus", ["memory", "redis"])
def test_pipe_over_a_limit_waits_as_told_and_loses_nothing(bus: str, redis_url: str) -> None:
    with server_on(bus, redis_url, *TIGHT) as app:
        stream = str(uuid.uuid4())
        text = "".join(f"line {n}\n" for n in range(LINES))
        result = subprocess.run([*BUNNYLOGS, "pipe", f"{app.url}/live/{stream}", "--wait", "60"], input=text.encode(),
                                capture_output=True, timeout=90)
        assert result.returncode == 0, result.stderr.decode()
        assert limited(app)["--stream-entries-per-second"] > 0
        assert [entry["message"] for entry in read_all(app.url, stream)] == [f"line {n}" for n in range(LINES)]


def test_healthz_counts_refusals_and_folded_names_from_zero() -> None:
    with running_app() as app:
        health = httpx.get(f"{app.url}/healthz").json()
        assert (health["limited"], health["names_folded"]) == ({}, 0)
        stream = str(uuid.uuid4())
        levels = [{"message": f"m{n}", "level": f"CUSTOM{n}"} for n in range(40)]
        assert httpx.post(f"{app.url}/live/{stream}", json=levels).status_code == 204
        assert httpx.get(f"{app.url}/healthz").json()["names_folded"] == 10  # past the default 30 custom levels
        kept = read_all(app.url, stream)
        assert [entry["level"] for entry in kept[29:31]] == ["CUSTOM29", "OTHER"]
        assert kept[30]["fields"] == {"level": "CUSTOM30"}


async def test_a_redis_restart_costs_the_limits_no_failed_request() -> None:
    redis = RedisServer(free_port()).start()
    try:
        limit = RateLimit(open_storage(redis.url), name="restart", limit="l",
                          setting="--s", allowed="a", amount=10, window_seconds=10)
        assert await limit.take("before") is None
        redis.stop()
        redis.start()  # the pooled connection is now dead, and Redis has forgotten the scripts
        assert await limit.take("after") is None
    finally:
        redis.stop()


@pytest.mark.parametrize("bus", ["memory", "redis"])
def test_an_event_stream_that_ends_frees_its_place(bus: str, redis_url: str) -> None:
    with server_on(bus, redis_url, "--viewers-per-stream", "1") as app:
        url = f"{app.url}/live/{uuid.uuid4()}"
        with httpx.Client(timeout=5) as http:
            with http.stream("GET", url) as first:
                assert first.status_code == 200
                refused = http.get(url)
                assert refused.status_code == 429 and "--viewers-per-stream" in refused.json()["detail"]
                assert refused.headers["retry-after"] == "10"
            assert status_when_opened(http, url) == 200  # the first one's place is free again
        assert limited(app)["--viewers-per-stream"] >= 1


def status_when_opened(http: httpx.Client, url: str, timeout: float = 5) -> int:
    """The status of an event stream opened (and closed) once the server has let the last one go."""
    deadline = time.monotonic() + timeout
    while True:
        with http.stream("GET", url) as response:
            if response.status_code != 429 or time.monotonic() > deadline:
                return response.status_code
        time.sleep(0.05)
