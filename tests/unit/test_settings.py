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


@pytest.mark.parametrize(("flag", "value"), [("--page-connect-seconds", "0"), ("--page-connect-seconds", "nan"),
                                             ("--page-connect-seconds", "-5"), ("--page-reconnect-seconds", "61"),
                                             ("--page-reconnect-seconds", "inf"), ("--page-reconnect-seconds", "0.5")])
def test_a_page_window_out_of_its_range_is_refused(flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    # A window over 60 s would space socket.io's pings 48 s and more apart (NiceGUI's rule: 0.8 times it).
    assert main(["serve", flag, value]) == 2
    assert flag[2:].replace("-", "_") in capsys.readouterr().err


def test_a_time_that_is_not_a_number_is_called_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--send-timeout-seconds", "nan"]) == 2
    assert "send_timeout_seconds: Input should be a finite number" in capsys.readouterr().err
