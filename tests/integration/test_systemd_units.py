"""deploy/systemd: each unit's ExecStart line, with its environment, starts a working process."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import httpx
import pytest

from harness.servers import AppProcess, running
from tests.integration.test_workers import health_by_pid

UNITS = Path(__file__).parents[2] / "deploy" / "systemd"
ENV_FILE = UNITS / "bunnylogs.env"
BINARY = "/opt/bunnylogs/venv/bin/bunnylogs"


def service_settings(unit: Path) -> tuple[list[str], dict[str, str], list[str]]:
    """The unit's ExecStart argument list, its Environment= values and its EnvironmentFile= paths."""
    command: list[str] = []
    environment: dict[str, str] = {}
    files: list[str] = []
    for line in unit.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "ExecStart":
            command = shlex.split(value)
        elif key == "Environment":
            environment.update(item.split("=", 1) for item in shlex.split(value))
        elif key == "EnvironmentFile":
            files.append(value)
    return command, environment, files


def env_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


class UnitProcess(AppProcess):
    """The unit's own command line, with its binary as this Python's `-m dashboard` and %i as a free port."""

    def __init__(self, command: list[str]) -> None:
        super().__init__()
        assert command[0] == BINARY, command
        self.args = [part.replace("%i", str(self.port)) for part in command[1:]]

    def command(self) -> list[str]:
        return [sys.executable, "-m", "dashboard", *self.args]


@pytest.mark.parametrize(("unit", "role"), [("bunnylogs-ingest@.service", "ingest"), ("bunnylogs-ui@.service", "ui")])
def test_a_unit_starts_what_it_says_against_redis(unit: str, role: str, redis_url: str) -> None:
    command, environment, files = service_settings(UNITS / unit)
    assert files == ["/etc/bunnylogs/bunnylogs.env"]
    process = UnitProcess(command)
    process.env = env_file(ENV_FILE) | environment | {"BUNNYLOGS_REDIS_URL": redis_url}
    with running(process) as app:
        health = httpx.get(f"{app.url}/healthz", timeout=10).json()
        assert health["role"] == role and health["bus"] == "redis"
        assert "--port" in command and f"{app.port}" in app.args
        if role == "ingest":  # its workers, from the unit's Environment=
            workers = int(environment["BUNNYLOGS_WORKERS"])
            assert workers > 1 and len(health_by_pid(app, wanted=workers)) == workers


def test_the_env_file_names_only_settings_that_exist() -> None:
    from dashboard.settings import Settings

    names = {f"BUNNYLOGS_{field.upper()}" for field in Settings.model_fields}
    assert set(env_file(ENV_FILE)) <= names
