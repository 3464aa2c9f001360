"""The servers a benchmark runs against, and what they cost the machine (CPU, RSS)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import psutil

from harness.servers import free_port


@dataclass
class Ceiling:
    """The no-op Starlette server (bench/ceiling.py)."""

    url: str


@contextlib.contextmanager
def running_ceiling() -> Iterator[Ceiling]:
    """Serve bench.ceiling:app with the same uvicorn stack as BunnyLogs (uvloop, httptools, no access log)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--host", "127.0.0.1", "--port", str(port),
         "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"])
    try:
        _wait_until_listening(f"http://127.0.0.1:{port}/", process)
        yield Ceiling(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_listening(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the ceiling server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:  # 404 for GET /: it is up
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the ceiling server did not start")


class ResourceMeter:
    """CPU use and resident memory of one process."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._process.cpu_percent()  # the first call only sets the starting point

    def rss_mb(self) -> float:
        """Resident memory now, in MB."""
        return self._process.memory_info().rss / 1e6

    def cpu_percent_since_last_call(self) -> float:
        """Average CPU use since the previous call, in % of one core."""
        return self._process.cpu_percent()
