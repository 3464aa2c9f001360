"""Real servers on free loopback ports: a throwaway redis-server, BunnyLogs processes, Chromium.

A server that exits or does not answer while starting raises `ServerDidNotStart` with its last
output; a program that is not installed raises `MissingProgram`, saying how to install it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Self, TypeVar

from playwright.async_api import Browser, async_playwright

START_TIMEOUT_S = 30.0
CHROMIUM = os.environ.get("BUNNYLOGS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class ServerDidNotStart(RuntimeError):
    """A server exited, or did not answer in time, while starting; the message ends with its last output."""


class MissingProgram(RuntimeError):
    """A program the harness runs is not installed; the message says how to install it."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess(ABC):
    """A server in a subprocess on `port`, its output in a log file; `start` again after `stop` restarts it."""

    name = "server"
    start_timeout_s = START_TIMEOUT_S

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}  # set in its environment (which has no BUNNYLOGS_* of the caller's)
        self._log = Path(tempfile.mkstemp(prefix="bunnylogs-harness-", suffix=".log")[1])

    @property
    def url(self) -> str:
        """Its base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @abstractmethod
    def command(self) -> list[str]:
        """The command line that starts the server."""

    @abstractmethod
    def is_ready(self) -> bool:
        """Whether the server answers yet."""

    def start(self) -> Self:
        """Start the server and return once it answers; raise `ServerDidNotStart` if it does not."""
        env = {key: value for key, value in os.environ.items()
               if key != "PYTEST_CURRENT_TEST" and not key.startswith("BUNNYLOGS_")} | self.env
        with self._log.open("wb") as log_file:
            self.process = subprocess.Popen(self.command(), stdout=log_file, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + self.start_timeout_s
        while not self.is_ready():
            if self.process.poll() is not None:
                raise ServerDidNotStart(f"{self.name} exited with {self.process.returncode} before it was ready:\n"
                                        f"{self.last_output()}")
            if time.monotonic() > deadline:
                self._terminate()
                raise ServerDidNotStart(f"{self.name} was not ready within {self.start_timeout_s:.0f} s:\n"
                                        f"{self.last_output()}")
            time.sleep(0.05)
        return self

    def _terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def stop(self) -> None:
        """Stop the server and remove its output."""
        self._terminate()
        self._log.unlink(missing_ok=True)

    def output(self) -> str:
        """What the server printed so far."""
        return self._log.read_text(errors="replace")

    def last_output(self, lines: int = 40) -> str:
        """The last `lines` lines the server printed."""
        return "\n".join(self.output().splitlines()[-lines:])


class RedisServer(ServerProcess):
    """A throwaway redis-server: loopback only; no persistence, or with `data_dir` an append-only file
    there, synced at every write (a restart keeps everything it acknowledged)."""

    name = "redis-server"
    start_timeout_s = 10.0

    def __init__(self, port: int | None = None, *, data_dir: Path | None = None) -> None:
        super().__init__(port)
        self.data_dir = data_dir

    @property
    def url(self) -> str:
        """Its redis:// URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise MissingProgram("redis-server is not installed; `./dev test` installs it on Debian "
                                 "(apt-get install --no-install-recommends redis-server; macOS: brew install redis)")
        persistence = (["--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", "always"]
                       if self.data_dir is not None else ["--appendonly", "no"])
        return [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence]

    def is_ready(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
        return False


class NginxServer(ServerProcess):
    """nginx in the foreground on `port`, serving `site` (a config for its http { } context) with
    its `listen 80` replaced by this server's port and its upstreams' ports by the ones given
    (`upstream_port` for a site with one, on 8000; else a mapping from the site's ports)."""

    name = "nginx"

    def __init__(self, site: Path, upstream_port: int | dict[int, int], port: int | None = None) -> None:
        super().__init__(port)
        self._site = site
        # The site's upstream ports (8000 for one process) and the ports they stand for here.
        self._upstreams = upstream_port if isinstance(upstream_port, dict) else {8000: upstream_port}
        self._workdir = Path(tempfile.mkdtemp(prefix="bunnylogs-nginx-"))
        self._workdir.chmod(0o755)  # nginx's workers (another user when run as root) keep request bodies here

    def command(self) -> list[str]:
        binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if binary is None:
            raise MissingProgram("nginx is not installed; `./dev test` installs it on Debian "
                                 "(apt-get install --no-install-recommends nginx; macOS: brew install nginx)")
        site = self._site.read_text().replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        for placeholder, port in self._upstreams.items():
            site = site.replace(f"127.0.0.1:{placeholder};", f"127.0.0.1:{port};")
        work = self._workdir
        (work / "nginx.conf").write_text(
            # Each page session holds two connections: nginx's default of 512 is 250 sessions.
            f"pid {work}/nginx.pid;\nerror_log stderr warn;\nworker_processes 1;\n"
            f"events {{ worker_connections 4096; }}\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {work}/body;\n  proxy_temp_path {work}/proxy;\n"
            f"  fastcgi_temp_path {work}/fastcgi;\n  uwsgi_temp_path {work}/uwsgi;\n  scgi_temp_path {work}/scgi;\n"
            f"{site}\n}}\n")
        return [binary, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"]

    def is_ready(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
            return True
        return False

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self._workdir, ignore_errors=True)


class AppProcess(ServerProcess):
    """A `python -m dashboard serve` subprocess; `url` is its base URL (no trailing slash)."""

    name = "bunnylogs serve"

    def __init__(self, *args: str, port: int | None = None) -> None:
        super().__init__(port)
        self.args = ["--host", "127.0.0.1", "--port", str(self.port), *args]

    def command(self) -> list[str]:
        return [sys.executable, "-m", "dashboard", "serve", *self.args]

    def is_ready(self) -> bool:
        return http_status(f"{self.url}/healthz") == 200


def viewers_fed(base_url: str) -> int:
    """How many viewers the BunnyLogs server at `base_url` feeds, from its /healthz."""
    with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:
        return int(json.load(response)["viewers"])


async def wait_for_viewers(base_url: str, expected: int | Callable[[int], bool], timeout_s: float = 20.0) -> int:
    """Wait until the server's viewer count is `expected` (a number, or a test of the count); return it.

    Pages subscribe a moment after their socket connects, and a closed page stops being fed only
    after NiceGUI's reconnect window.
    """
    matches = expected if callable(expected) else expected.__eq__
    deadline = time.monotonic() + timeout_s
    while not matches(count := await asyncio.to_thread(viewers_fed, base_url)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server feeds {count} viewers after {timeout_s:.0f} s, not as expected")
        await asyncio.sleep(0.05)
    return count


def http_status(url: str) -> int | None:
    """The status a GET of `url` is answered with, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


Server = TypeVar("Server", bound=ServerProcess)


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    """`server`, started, for the duration of the block."""
    try:
        yield server.start()
    finally:
        server.stop()


def running_redis(port: int | None = None, *,
                  data_dir: Path | None = None) -> contextlib.AbstractContextManager[RedisServer]:
    """A throwaway redis-server for the block (on `port`, or a free one); persistent in `data_dir` if given."""
    return running(RedisServer(port, data_dir=data_dir))


def running_nginx(site: Path, upstream_port: int | dict[int, int]) -> contextlib.AbstractContextManager[NginxServer]:
    """nginx serving `site` in front of 127.0.0.1:`upstream_port` (or the mapped ports), for the block."""
    return running(NginxServer(site, upstream_port))


def running_app(*args: str, port: int | None = None) -> contextlib.AbstractContextManager[AppProcess]:
    """A BunnyLogs server started with `args` for the block (on `port`, or a free one)."""
    return running(AppProcess(*args, port=port))


def _chromium_executable() -> str:
    """The Chromium the harness drives: `BUNNYLOGS_TEST_CHROMIUM`, else /usr/bin/chromium."""
    if not os.access(CHROMIUM, os.X_OK):
        raise MissingProgram(f"Chromium not found at {CHROMIUM}; `./dev test` installs it on Debian "
                             "(apt-get install --no-install-recommends chromium), "
                             "or set BUNNYLOGS_TEST_CHROMIUM=/path/to/chromium")
    return CHROMIUM


@contextlib.asynccontextmanager
async def chromium(*extra_args: str) -> AsyncIterator[Browser]:
    """Chromium, headless, through Playwright, with `CHROMIUM_ARGS` and `extra_args`."""
    executable = _chromium_executable()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            await browser.close()
