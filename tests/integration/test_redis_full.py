"""A Redis at its maxmemory (with noeviction) is a clear 503 that says so, and nothing is half-stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from dashboard.http_errors import BUS_FULL
from harness.servers import AppProcess, RedisServer, running_app, running_redis


@pytest.fixture(scope="module")
def full_redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture(scope="module")
def app(full_redis: RedisServer) -> Iterator[AppProcess]:
    with running_app("--redis-url", full_redis.url) as app:
        yield app


def test_a_full_redis_is_a_503_that_names_it_and_a_line_is_taken_again_after(full_redis: RedisServer,
                                                                            app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    control = redis.Redis.from_url(full_redis.url)
    used = int(control.info("memory")["used_memory"])
    control.config_set("maxmemory-policy", "noeviction")
    control.config_set("maxmemory", used + 256 * 1024)
    try:
        with httpx.Client(timeout=10) as http:
            answers = []
            for n in range(40):  # 40 entries of ~60 KB: past the 256 KiB left
                answers.append(http.post(f"{app.url}/live/{stream}", json={"message": f"{n} " + "f" * 60_000}))
                if answers[-1].status_code != 204:
                    break
            refused = answers[-1]
            assert refused.status_code == 503, [answer.status_code for answer in answers]
            assert refused.json() == {"detail": BUS_FULL} and refused.headers["retry-after"].isdigit()
            stored = http.get(f"{app.url}/live/{stream}/entries", params={"limit": 1000}).json()["entries"]
            assert len(stored) == len(answers) - 1, "everything answered 204 is there, the refused one is not"
            control.config_set("maxmemory", 1)  # over it for sure: no write at all passes
            with running_app("--redis-url", full_redis.url) as late:  # a process (re)started meanwhile
                assert http.get(f"{late.url}/readyz").json() == {"status": "ready", "bus": "redis"}
            control.config_set("maxmemory", 0)
            assert http.post(f"{app.url}/live/{stream}", json={"message": "room again"}).status_code == 204
    finally:
        control.config_set("maxmemory", 0)
        control.close()
