"""The whole history over HTTP, against real servers on both buses: paging back, filters, the stream's size."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.servers import running_app

from .test_pipe_and_tail import post

STREAM_LENGTH = 4500


@pytest.fixture(scope="module", params=["memory", "redis"])
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    redis = ("--redis-url", request.getfixturevalue("redis_url")) if request.param == "redis" else ()
    with running_app(*redis) as app:
        yield app.url


@pytest.fixture(scope="module")
def long_stream(server_url: str) -> tuple[str, list[str]]:
    """A stream of several thousand entries and their IDs, oldest first."""
    stream = str(uuid.uuid4())
    for start in range(0, STREAM_LENGTH, 900):
        post(server_url, stream, *[{"message": f"line {i}", "level": "error" if i % 100 == 7 else "info",
                                    "program": "web" if i % 2 else "db"} for i in range(start, start + 900)])
    ids: list[str] = []
    page = {"next_after": "0", "reached_end": False}
    while not page["reached_end"]:
        page = get(server_url, stream, after=page["next_after"], limit=1000)
        ids += [entry["id"] for entry in page["entries"]]
    assert len(ids) == len(set(ids)) == STREAM_LENGTH, "paging forward gets each entry once too"
    return stream, ids


def get(server_url: str, stream: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{server_url}/live/{stream}/entries", params=params, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()


def test_paging_back_from_the_newest_gets_every_entry_exactly_once(server_url: str,
                                                                   long_stream: tuple[str, list[str]]) -> None:
    stream, ids = long_stream
    seen: list[str] = []
    page = get(server_url, stream, limit=1000)
    assert page["kept"] == STREAM_LENGTH and page["reached_end"]
    while True:
        seen = [entry["id"] for entry in page["entries"]] + seen
        if page["reached_start"]:
            break
        page = get(server_url, stream, before=page["next_before"], limit=1000)
    assert seen == ids


def test_a_filtered_page_back_and_forth(server_url: str, long_stream: tuple[str, list[str]]) -> None:
    stream, ids = long_stream
    errors = [f"line {i}" for i in range(STREAM_LENGTH) if i % 100 == 7]
    newest = get(server_url, stream, level="error", limit=10)
    assert [entry["message"] for entry in newest["entries"]] == errors[-10:]
    older = get(server_url, stream, level="error", limit=1000, before=newest["next_before"])
    assert [entry["message"] for entry in older["entries"]] == errors[:-10] and older["reached_start"]
    assert older["scanned"] == ids.index(newest["entries"][0]["id"])
    web_errors = get(server_url, stream, level="warn", program="web", q="LINE 4", after="0", limit=1000)
    assert [e["message"] for e in web_errors["entries"]] == [m for m in errors if m.startswith("line 4")
                                                              and int(m.split()[1]) % 2]
    assert web_errors["reached_end"] and web_errors["scanned"] == STREAM_LENGTH
    by_regex = get(server_url, stream, q=r"^line 4[0-9]07$", re="1", program=["web", "db"], limit=1000)
    assert [e["message"] for e in by_regex["entries"]] == ["line 4007", "line 4107", "line 4207", "line 4307",
                                                           "line 4407"]


def test_since_and_until_select_by_the_entries_own_time(server_url: str) -> None:
    stream = str(uuid.uuid4())
    post(server_url, stream, {"message": "2020", "timestamp": "2020-06-01T12:00:00Z"},
         {"message": "2024", "timestamp": "2024-06-01T12:00:00Z"}, {"message": "just now"})
    messages = lambda **query: [e["message"] for e in get(server_url, stream, **query)["entries"]]  # noqa: E731
    assert messages(since="2024-01-01") == ["2024", "just now"]
    assert messages(since="2020-06-01T12:00:00Z", until="2024-06-01T12:00:00Z") == ["2020"]
    assert messages(since="15m") == ["just now"]
    assert messages(until="1h", after="0") == ["2020", "2024"]


def test_a_catastrophic_pattern_over_long_lines_answers_at_once(server_url: str) -> None:
    """Python's re would take years on each line; RE2 scans them in linear time, so the page is whole."""
    stream = str(uuid.uuid4())
    for _ in range(4):
        post(server_url, stream, *[{"message": "a" * 60_000 + "!"} for _ in range(10)])
    post(server_url, stream, {"message": "a" * 50})
    for pattern in [r"(a|aa)+$", r"(a+)+$", r"(.*a){20}$", r"^(a|a?)+$"]:
        started = time.monotonic()
        page = get(server_url, stream, q=pattern, re="1", limit=10)
        assert time.monotonic() - started < 3, pattern
        assert [len(entry["message"]) for entry in page["entries"]] == [50], pattern
        assert page["scanned"] == 41 and page["reached_start"], "every line was looked at"
    refused = httpx.get(f"{server_url}/live/{stream}/entries", params={"q": r"(a)\1", "re": "1"}, timeout=15)
    assert refused.status_code == 422 and refused.json()["detail"].startswith("q is not a regular expression")


@pytest.mark.parametrize(("params", "named"), [
    ({"q": "x" * 501}, "q"), ({"q": "(", "re": "1"}, "q"), ({"level": "loud"}, "level"), ({"since": "soon"}, "since"),
    ({"until": "15"}, "until"), ({"limit": "many"}, "limit"), ({"limit": "1001"}, "limit"), ({"before": "x"}, "before"),
    ({"before": "2-0", "after": "1-0"}, "before"), ({"re": "2"}, "re"),
])
def test_bad_parameters_are_422_naming_them(server_url: str, params: dict[str, str], named: str) -> None:
    response = httpx.get(f"{server_url}/live/{uuid.uuid4()}/entries", params=params, timeout=15)
    assert response.status_code == 422
    assert response.json()["detail"].split()[0].rstrip(":") == named
