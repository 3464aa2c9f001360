"""The connection limits' defaults, and the flags that set them (the servers' side is in tests/integration)."""

from __future__ import annotations

import resource

import pytest

from dashboard.cli import main
from dashboard.connections import default_max_connections
from dashboard.settings import Settings


def test_the_default_cap_leaves_room_under_the_open_file_limit() -> None:
    assert default_max_connections(1_048_576) == 4000
    assert default_max_connections(1024) == 924
    assert default_max_connections(50) == 1
    assert default_max_connections(resource.RLIM_INFINITY) == 4000


def test_the_defaults_are_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEADER_TIMEOUT_SECONDS", "BODY_TIMEOUT_SECONDS", "IDLE_TIMEOUT_SECONDS", "MAX_CONNECTIONS"):
        monkeypatch.delenv(f"BUNNYLOGS_{name}", raising=False)
    settings = Settings()
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds, settings.idle_timeout_seconds,
            settings.max_connections) == (10.0, 30.0, 5.0, None)


@pytest.mark.parametrize("flag", ["--header-timeout-seconds", "--body-timeout-seconds", "--idle-timeout-seconds",
                                  "--max-connections"])
def test_a_limit_of_zero_is_refused(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", flag, "0"]) == 2
    assert flag.removeprefix("--").replace("-", "_") in capsys.readouterr().err
