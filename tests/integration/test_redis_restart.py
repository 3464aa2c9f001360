"""A Redis restart: the first request after it succeeds, and readiness and event streams say when the bus is away."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx

from harness.servers import running_app, running_redis


def test_the_first_requests_after_a_redis_restart_succeed() -> None:
    stream = str(uuid.uuid4())
    with running_redis() as redis, running_app("--redis-url", redis.url) as app, httpx.Client(timeout=10) as http:
        assert http.post(f"{app.url}/live/{stream}", data={"message": "before"}).status_code == 204
        assert http.get(f"{app.url}/live/{stream}/entries").status_code == 200  # the pool holds connections
        redis.stop()
        redis.start()  # same port, empty (no persistence): the pooled connections are dead
        time.sleep(0.5)
        first = http.post(f"{app.url}/live/{stream}", data={"message": "after"})
        assert first.status_code == 204, first.text
        read = http.get(f"{app.url}/live/{stream}/entries")
        assert read.status_code == 200 and [e["message"] for e in read.json()["entries"]] == ["after"]


def test_readiness_follows_the_bus_while_liveness_stays_ok() -> None:
    with running_redis() as redis, running_app("--redis-url", redis.url) as app, httpx.Client(timeout=10) as http:
        assert http.get(f"{app.url}/readyz").json() == {"status": "ready", "bus": "redis"}
        redis.stop()
        not_ready = http.get(f"{app.url}/readyz")
        assert not_ready.status_code == 503 and "redis" in not_ready.json()["detail"].lower()
        assert not_ready.headers["retry-after"] == "1"
        assert http.get(f"{app.url}/healthz").status_code == 200, "the process itself is alive"
        redis.start()
        deadline = time.monotonic() + 10
        while http.get(f"{app.url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "readiness did not come back with Redis"
            time.sleep(0.1)


def test_the_memory_bus_is_always_ready() -> None:
    with running_app() as app:
        assert httpx.get(f"{app.url}/readyz", timeout=10).json() == {"status": "ready", "bus": "memory"}


def test_an_event_stream_says_when_redis_goes_away_and_comes_back(tmp_path: Path) -> None:
    stream = str(uuid.uuid4())
    with running_redis(data_dir=tmp_path) as redis, running_app("--redis-url", redis.url) as app, \
            httpx.Client(timeout=10) as http, http.stream("GET", f"{app.url}/live/{stream}") as events:
        lines = events.iter_lines()
        assert next(line for line in lines if line.startswith(":")) == ": connected"
        redis.stop()
        assert next(line for line in lines if "unavailable" in line) == ": the log bus is unavailable; reconnecting"
        redis.start()
        assert next(line for line in lines if "available again" in line) == ": the log bus is available again"
        http.post(f"{app.url}/live/{stream}", data={"message": "after"})
        assert json.loads(next(line for line in lines if line.startswith("data:")).removeprefix("data:"))[
            "message"] == "after"
