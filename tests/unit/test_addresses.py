"""The addresses a stream page shows, and when the send address would refuse what is sent to it."""

from __future__ import annotations

from starlette.requests import Request

from dashboard.pages.addresses import ingest_url, send_warning, view_url
from dashboard.protocol import view_key
from dashboard.settings import Settings

STREAM = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"


def request(host: str = "logs.example:8101", **headers: str) -> Request:
    raw = [(b"host", host.encode()), *((name.encode(), value.encode()) for name, value in headers.items())]
    return Request({"type": "http", "scheme": "http", "server": ("127.0.0.1", 8101), "path": f"/{STREAM}",
                    "headers": raw, "query_string": b""})


def test_the_addresses_come_from_the_public_url_or_the_browser() -> None:
    direct = Settings()
    assert ingest_url(direct, request(), STREAM) == f"http://logs.example:8101/live/{STREAM}"
    assert view_url(direct, request(), STREAM) == f"http://logs.example:8101/{view_key(STREAM)}"
    public = Settings(public_url="https://logs.example.com/")
    assert ingest_url(public, request(), STREAM) == f"https://logs.example.com/live/{STREAM}"


def test_a_pages_only_process_reached_directly_warns_that_it_takes_no_logs() -> None:
    ui_only = Settings(role="ui", redis_url="redis://127.0.0.1:6379/0")
    warning = send_warning(ui_only, request())
    assert warning is not None and "--public-url" in warning and "--role ui" in warning
    assert send_warning(ui_only, request(**{"x-forwarded-for": "203.0.113.9"})) is None, "a proxy routes /live"
    assert send_warning(Settings(role="ui", redis_url="redis://127.0.0.1:6379/0",
                                 public_url="https://logs.example.com"), request()) is None
    assert send_warning(Settings(), request()) is None, "a process that takes logs"
