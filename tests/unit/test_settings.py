"""Settings come from BUNNYLOGS_* variables and flags, and refuse what cannot work."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dashboard.cli import main
from dashboard.settings import Settings


def test_defaults_are_a_local_single_process_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "REDIS_URL", "ROLE"):
        monkeypatch.delenv(f"BUNNYLOGS_{name}", raising=False)
    settings = Settings()
    assert (settings.host, settings.port, settings.redis_url, settings.role) == ("127.0.0.1", 8000, None, "all")
    assert (settings.history, settings.max_rows, settings.max_stream_length) == (500, 10_000, 10_000)


def test_environment_is_read_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUNNYLOGS_PORT", "9001")
    monkeypatch.setenv("BUNNYLOGS_HISTORY", "50")
    settings = Settings(history=70)
    assert (settings.port, settings.history) == (9001, 70)


def test_split_roles_need_redis() -> None:
    with pytest.raises(ValidationError, match="needs a Redis URL"):
        Settings(role="ingest")
    assert Settings(role="ui", redis_url="redis://localhost:6379/0").serves_ui


def test_public_url_must_be_http_and_loses_its_trailing_slash() -> None:
    assert Settings(public_url="https://logs.example.com/").public_url == "https://logs.example.com"
    with pytest.raises(ValidationError, match="must start with http"):
        Settings(public_url="logs.example.com")


def test_cli_reports_bad_settings_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--role", "ui"]) == 2
    assert "needs a Redis URL" in capsys.readouterr().err
    assert main(["serve", "--port", "70000"]) == 2
    assert "port" in capsys.readouterr().err
