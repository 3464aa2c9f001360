"""Real servers for the tests: redis-server and BunnyLogs processes on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _tail(log_path: Path, lines: int = 40) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def start_redis_server(port: int) -> subprocess.Popen[bytes]:
    """A throwaway redis-server (loopback, no persistence) on `port`; the caller stops it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; `./dev test` installs it (Debian: apt-get install redis-server)")
    return subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def wait_for_redis(process: subprocess.Popen[bytes], port: int) -> None:
    """Return once the redis-server on `port` answers PING."""
    _wait_for(lambda: _redis_answers(port), process, "redis-server", timeout=10)


@contextlib.contextmanager
def running_redis() -> Iterator[str]:
    """A throwaway redis-server on a free port for the block; yields its URL."""
    port = free_port()
    process = start_redis_server(port)
    try:
        wait_for_redis(process, port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def _redis_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(16).startswith(b"+PONG")
    return False


class AppProcess:
    """A `python -m dashboard serve` subprocess; `url` is its base URL (no trailing slash)."""

    def __init__(self, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--host", "127.0.0.1", "--port", str(self.port), *args]
        self._log = Path(tempfile.mkstemp(prefix="bunnylogs-test-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> AppProcess:
        """Start the server and wait until /healthz answers."""
        env = {key: value for key, value in os.environ.items()
               if key != "PYTEST_CURRENT_TEST" and not key.startswith("BUNNYLOGS_")}
        with self._log.open("wb") as log_file:
            self.process = subprocess.Popen([sys.executable, "-m", "dashboard", "serve", *self.args],
                                            stdout=log_file, stderr=subprocess.STDOUT, env=env)
        _wait_for(lambda: _http_ok(f"{self.url}/healthz"), self.process, "bunnylogs serve", self._log)
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove its log."""
        if self.process is not None:
            _stop(self.process)
        self._log.unlink(missing_ok=True)

    def output(self) -> str:
        """What the server printed so far."""
        return self._log.read_text(errors="replace")


@contextlib.contextmanager
def running_app(*args: str, port: int | None = None) -> Iterator[AppProcess]:
    """A BunnyLogs server for the duration of the block (on `port`, or a free one)."""
    app = AppProcess(*args, port=port)
    try:
        yield app.start()
    finally:
        app.stop()


def _http_ok(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
        return response.status == 200
    return False


def _wait_for(ready, process: subprocess.Popen[bytes], name: str, log_path: Path | None = None,
              timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if process.poll() is not None:
            output = _tail(log_path) if log_path else ""
            pytest.fail(f"{name} exited with {process.returncode} before it was ready:\n{output}")
        time.sleep(0.05)
    _stop(process)
    pytest.fail(f"{name} was not ready within {timeout:.0f} s:\n{_tail(log_path) if log_path else ''}")
