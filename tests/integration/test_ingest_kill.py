"""An ingest worker killed (SIGKILL) under load from the real handler and the real `bunnylogs pipe`,
through nginx in front of two ingest processes: every line is stored exactly once."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.servers import AppProcess, NginxServer, free_port, running_app, running_nginx
from tests.integration.test_workers import worker_pids

SITE = Path(__file__).parents[2] / "deploy" / "nginx" / "bunnylogs-cluster.conf"
LINES = 3000

HANDLER_SCRIPT = """
import logging, sys, time
from dashboard.client import BunnyLogsHandler
handler = BunnyLogsHandler(sys.argv[1], program="handler", exit_timeout=60, report_problems=False)
log = logging.getLogger("load")
log.addHandler(handler)
log.setLevel(logging.INFO)
for n in range(int(sys.argv[2])):
    log.info("handler %05d", n)
    time.sleep(0.001)
flushed = handler.flush(60)
print(f"flushed={flushed} lost={handler.lost} rejected={handler.rejected} retries={handler.sender.retries}")
sys.exit(0 if flushed and not handler.lost and not handler.rejected else 1)
"""
LINES_SCRIPT = """
import sys, time
for n in range(int(sys.argv[1])):
    print(f"pipe {n:05d}", flush=True)
    time.sleep(0.001)
"""


@pytest.fixture
def ingest_behind_nginx(redis_url: str) -> Iterator[tuple[NginxServer, list[AppProcess]]]:
    with contextlib.ExitStack() as stack:
        ingest = [stack.enter_context(running_app("--role", "ingest", "--workers", "2", "--redis-url", redis_url,
                                                  "--client-requests-per-second", "0")) for _ in range(2)]
        # No UI processes: the pages' upstream points at ports nothing listens on.
        ports = {8001: ingest[0].port, 8002: ingest[1].port, 8101: free_port(), 8102: free_port()}
        yield stack.enter_context(running_nginx(SITE, ports)), ingest


def kill_in_flight(apps: list[AppProcess]) -> None:
    """SIGKILL the processes' workers while requests are in flight on them: they are stopped (SIGSTOP)
    first, so that nginx's requests on their connections wait, and then killed. nginx answers those
    requests 502; the supervisors start new workers, which take the connections still waiting."""
    workers = set().union(*(worker_pids(app) for app in apps))
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    time.sleep(1.0)  # the senders post every 50 ms: each has a request waiting on a stopped worker now
    for pid in workers:
        os.kill(pid, signal.SIGKILL)


def wait_until_both_send(url: str, timeout_s: float = 60) -> None:
    """Until a line of the handler and one of the pipe are stored: both are sending (on a busy
    machine the two programs take a while to start, and a kill before then would hit nothing)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            page = httpx.get(f"{url}/entries", params={"limit": 1000}, timeout=5).json()
            sources = {entry["message"].split()[0] for entry in page["entries"]}
            if {"handler", "pipe"} <= sources:
                return
        time.sleep(0.05)
    raise AssertionError("the handler and the pipe did not both start sending")


def all_messages(url: str) -> list[str]:
    messages: list[str] = []
    after = "0"
    with httpx.Client(timeout=10) as http:
        while True:
            page = http.get(f"{url}/entries", params={"after": after, "limit": 1000}).json()
            messages += [entry["message"] for entry in page["entries"]]
            if not page["entries"]:
                return messages
            after = page["next_after"]


def test_killed_workers_lose_nothing_and_store_nothing_twice(
        ingest_behind_nginx: tuple[NginxServer, list[AppProcess]]) -> None:
    nginx, ingest = ingest_behind_nginx
    url = f"{nginx.url}/live/{uuid.uuid4()}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("BUNNYLOGS_")}
    handler = subprocess.Popen([sys.executable, "-c", HANDLER_SCRIPT, url, str(LINES)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = subprocess.Popen([sys.executable, "-c", LINES_SCRIPT, str(LINES)], stdout=subprocess.PIPE, env=env)
    pipe = subprocess.Popen([sys.executable, "-m", "dashboard", "pipe", url, "--wait", "60"], stdin=lines.stdout,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert lines.stdout is not None
    lines.stdout.close()  # the pipe holds it now
    try:
        wait_until_both_send(url)
        kill_in_flight(ingest)
        handler_output, _ = handler.communicate(timeout=120)
        pipe_output, _ = pipe.communicate(timeout=120)
        lines.wait(timeout=10)
    finally:
        for process in (handler, lines, pipe):
            if process.poll() is None:
                process.kill()
    assert handler.returncode == 0, handler_output
    assert pipe.returncode == 0, pipe_output
    stored = all_messages(url)
    expected = {f"handler {n:05d}" for n in range(LINES)} | {f"pipe {n:05d}" for n in range(LINES)}
    assert len(stored) == len(set(stored)), "a line was stored twice"
    assert set(stored) == expected
    # Each sender's own lines are in the order it sent them.
    for source in ("handler", "pipe"):
        own = [message for message in stored if message.startswith(source)]
        assert own == sorted(own)
    assert "retries=0" not in handler_output, "no kill hit a request of the handler: the test proved nothing"
    assert "502" in pipe_output, "no kill hit a request of the pipe: the test proved nothing"
