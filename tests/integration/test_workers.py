"""`serve --role ingest --workers N`: real worker processes sharing one port, started, spread over,
replaced and stopped by their supervisor."""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from pathlib import Path

import httpx

from dashboard.workers import START_GRACE_S
from harness.servers import AppProcess, running_app, running_redis
from tests.integration.test_cli import serve

POSTS = 40


def children(parent: int) -> set[int]:
    """The PIDs of the processes whose parent is `parent`, running now."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def worker_pids(app: AppProcess) -> set[int]:
    """The workers: the parent's children that answer /healthz (not multiprocessing's resource tracker)."""
    assert app.process is not None
    return {pid for pid in children(app.process.pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()}


def health_by_pid(app: AppProcess, *, wanted: int, tries: int = 400) -> dict[int, dict[str, object]]:
    """Each worker's /healthz, asked on a new connection each time until `wanted` workers answered."""
    seen: dict[int, dict[str, object]] = {}
    for _ in range(tries):
        health = httpx.get(f"{app.url}/healthz", headers={"Connection": "close"}, timeout=10).json()
        seen[health["pid"]] = health
        if len(seen) >= wanted:
            break
    return seen


def wait_until(condition: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_posts_spread_over_the_workers_and_a_killed_worker_is_replaced(redis_url: str) -> None:
    stream = str(uuid.uuid4())
    with running_app("--role", "ingest", "--workers", "2", "--redis-url", redis_url) as app:
        workers = worker_pids(app)
        assert len(workers) == 2
        for n in range(POSTS):
            response = httpx.post(f"{app.url}/live/{stream}", data={"message": f"line {n}"},
                                  headers={"Connection": "close"}, timeout=10)
            assert response.status_code == 204
            assert response.headers["x-content-type-options"] == "nosniff"  # the security headers hold
        health = health_by_pid(app, wanted=2)
        assert set(health) == workers
        taken = [int(str(worker["entries_accepted"])) for worker in health.values()]
        assert all(count > 0 for count in taken) and sum(taken) == POSTS, taken
        read = httpx.get(f"{app.url}/live/{stream}/entries", params={"limit": 100}).json()
        assert [entry["message"] for entry in read["entries"]] == [f"line {n}" for n in range(POSTS)]

        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: len(worker_pids(app) - {killed}) == 2, "the supervisor did not start another worker")
        assert set(health_by_pid(app, wanted=2)) == worker_pids(app)

        assert app.process is not None
        workers = worker_pids(app)
        app.process.send_signal(signal.SIGTERM)
        assert app.process.wait(timeout=20) == 0
        assert not any(_running(pid) for pid in workers)
        assert "Application shutdown complete" in app.output(), app.last_output()


def test_workers_stop_when_their_supervisor_is_killed(redis_url: str) -> None:
    with running_app("--role", "ingest", "--workers", "2", "--redis-url", redis_url) as app:
        workers = worker_pids(app)
        assert len(workers) == 2 and app.process is not None
        app.process.kill()
        app.process.wait(timeout=10)
        wait_until(lambda: not any(_running(pid) for pid in workers), "a worker outlived its supervisor")


def _running(pid: int) -> bool:
    """Whether `pid` is a process that has not exited (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_are_refused_for_pages_and_for_the_memory_bus() -> None:
    for args, reason in ((("--workers", "2"), "needs --role ingest"),
                         (("--workers", "2", "--role", "ui", "--redis-url", "redis://127.0.0.1:1/0"),
                          "needs --role ingest"),
                         (("--workers", "3", "--role", "ingest"), "needs a Redis URL")):
        result = serve(*args)
        assert result.returncode == 2, result
        assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_ctrl_c_stops_the_supervisor_and_its_workers_cleanly(redis_url: str) -> None:
    with running_app("--role", "ingest", "--workers", "2", "--redis-url", redis_url) as app:
        workers = worker_pids(app)
        assert len(workers) == 2 and app.process is not None
        assert len(health_by_pid(app, wanted=2)) == 2  # both serve (the harness waits for one)
        app.process.send_signal(signal.SIGINT)
        assert app.process.wait(timeout=20) == 0
        assert not any(_running(pid) for pid in workers)
        assert app.output().count("Application shutdown complete") == 2, app.last_output()


def test_a_busy_port_is_one_clear_line(redis_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve("--role", "ingest", "--workers", "2", "--redis-url", redis_url, "--port", str(port))
    assert result.returncode == 1, result
    assert result.stderr.strip() == f"bunnylogs: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_a_worker_that_cannot_start_while_redis_is_away_is_tried_again_and_the_others_keep_answering() -> None:
    with running_redis() as redis, running_app("--role", "ingest", "--workers", "2", "--redis-url", redis.url) as app:
        assert app.process is not None and len(health_by_pid(app, wanted=2)) == 2
        time.sleep(START_GRACE_S + 1)  # past the start: a failed start now means Redis is away
        redis.stop()
        killed = next(iter(worker_pids(app)))
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: "starting another" in app.output(), "the supervisor did not replace the worker")
        time.sleep(2)  # the replacement fails: Redis is down
        assert app.process.poll() is None, app.last_output()
        refused = httpx.post(f"{app.url}/live/{uuid.uuid4()}", data={"message": "x"}, timeout=10)
        assert refused.status_code == 503 and refused.headers["retry-after"]
        redis.start()
        wait_until(lambda: len(health_by_pid(app, wanted=2, tries=50)) == 2, "no second worker after Redis came back",
                   timeout=30)
        stored = httpx.post(f"{app.url}/live/{uuid.uuid4()}", data={"message": "back"}, timeout=10)
        assert stored.status_code == 204
