"""Load from a separate process: wrk (Debian's package) with a small Lua script for the body."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "{content_type}"
wrk.body = {body}
"""


@dataclass(frozen=True)
class WrkResult:
    """What wrk reports for one run."""

    requests: int
    seconds: float
    not_2xx: int
    socket_errors: int

    @property
    def ok_per_second(self) -> float:
        """Answered-with-2xx requests per second."""
        return (self.requests - self.not_2xx) / self.seconds


def run_wrk(url: str, *, body: str, content_type: str, seconds: int, connections: int) -> WrkResult:
    """POST `body` to `url` as fast as `connections` keep-alive connections allow, from one wrk thread."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed; `./dev bench` installs it (Debian: apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_LUA.format(content_type=content_type, body=_lua_string(body)))
        script.flush()
        output = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url],
                                capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    return parse_wrk_output(output)


def parse_wrk_output(output: str) -> WrkResult:
    """Read the totals from wrk's report."""
    totals = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    if totals is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    seconds = float(totals.group(2)) / (1000 if totals.group(3) == "ms" else 1)
    not_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(requests=int(totals.group(1)), seconds=seconds,
                     not_2xx=int(not_2xx.group(1)) if not_2xx else 0,
                     socket_errors=sum(int(n) for n in errors.groups()) if errors else 0)


def _lua_string(text: str) -> str:
    # A Lua long string cannot hold its own closing bracket sequence (nor end in "]", which would run
    # into it); pick a level whose closing sequence does not occur.
    level = 1
    while f"]{'=' * level}]" in text + "]":
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"

