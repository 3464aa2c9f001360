"""The ceiling server a benchmark compares with, and what a server costs the machine (CPU, RSS)."""

from __future__ import annotations

import contextlib
import sys

import psutil

from harness.servers import ServerProcess, http_status, running


class CeilingProcess(ServerProcess):
    """bench/ceiling.py's no-op app, served like BunnyLogs: uvicorn with uvloop and httptools, no access log."""

    name = "the ceiling server"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--host", "127.0.0.1", "--port", str(self.port),
                "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]

    def is_ready(self) -> bool:
        return http_status(f"{self.url}/") is not None  # 404 for GET /: it is up


def running_ceiling() -> contextlib.AbstractContextManager[CeilingProcess]:
    """The ceiling server for the duration of the block."""
    return running(CeilingProcess())


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


class FloorProcess(ServerProcess):
    """bench/floor.py's latency floor, served like BunnyLogs."""

    name = "the latency floor"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "bench.floor:app", "--host", "127.0.0.1", "--port", str(self.port),
                "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]

    def is_ready(self) -> bool:
        return http_status(f"{self.url}/healthz") == 200


def running_floor() -> contextlib.AbstractContextManager[FloorProcess]:
    """The latency floor server for the duration of the block."""
    return running(FloorProcess())
