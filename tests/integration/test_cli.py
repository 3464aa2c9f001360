"""`bunnylogs serve` refuses what cannot work, with one clear line and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from harness.servers import free_port


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST" and not k.startswith("BUNNYLOGS_")}
    return subprocess.run([sys.executable, "-m", "dashboard", "serve", "--port", str(free_port()), *args],
                          capture_output=True, text=True, timeout=30, env=env)


def test_unreachable_redis_is_one_clear_line() -> None:
    port = free_port()
    result = serve("--redis-url", f"redis://127.0.0.1:{port}/0")
    assert result.returncode == 1
    assert result.stderr.startswith(f"bunnylogs serve: cannot reach Redis at redis://127.0.0.1:{port}/0")
    assert "Traceback" not in result.stderr


def test_split_role_without_redis_is_refused() -> None:
    result = serve("--role", "ingest")
    assert result.returncode == 2 and "needs a Redis URL" in result.stderr


def test_console_script_is_installed() -> None:
    script = os.path.join(os.path.dirname(sys.executable), "bunnylogs")
    result = subprocess.run([script, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "--redis-url" in result.stdout
