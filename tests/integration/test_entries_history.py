"""The whole history over HTTP, against real servers on both buses: paging back, filters, the stream's size."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.servers import running_app, viewers_fed, wait_for_viewers

from ..support import SENTINEL
from .test_pipe_and_tail import BUNNYLOGS, post, start_tail, stop

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


# --- bunnylogs tail --since / --until ---------------------------------------------------------------


def test_tail_since_prints_the_stored_range_then_live_entries_with_no_gap_or_repeat_at_the_seam(
        server_url: str) -> None:
    stream = str(uuid.uuid4())
    post(server_url, stream, {"message": "too old", "timestamp": "2020-01-01T00:00:00Z"})
    for start in range(0, 2400, 800):  # three pages of stored entries
        post(server_url, stream, *[{"message": f"stored {i}"} for i in range(start, start + 800)])
    sent: list[str] = []
    stop_sending = threading.Event()

    def send_while_tail_starts() -> None:
        while not stop_sending.is_set() and len(sent) < 10_000:
            batch = [f"during {len(sent) + k}" for k in range(10)]
            post(server_url, stream, *[{"message": message} for message in batch])
            sent.extend(batch)
            time.sleep(0.005)

    followers = viewers_fed(server_url)
    sender = threading.Thread(target=send_while_tail_starts)
    sender.start()
    process, output = start_tail(f"{server_url}/live/{stream}", "--since", "15m", "--json")
    try:
        first = [json.loads(line)["message"] for line in output.take(2400, timeout=30)]
        assert first == [f"stored {i}" for i in range(2400)]
        asyncio.run(wait_for_viewers(server_url, lambda count: count > followers, timeout_s=10))
        sent_before_live = len(sent)
        time.sleep(0.3)  # the tail follows live while entries still arrive
        stop_sending.set()
        sender.join()
        assert sent_before_live < len(sent) < 10_000, "entries arrived on both sides of the seam"
        post(server_url, stream, {"message": SENTINEL})
        rest = [json.loads(line)["message"] for line in output.take(len(sent) + 1, timeout=30)]
        assert rest == [*sent, SENTINEL], "every entry once, in order, across the seam"
    finally:
        stop_sending.set()
        errors = stop(process)
    assert "Traceback" not in errors


def test_tail_until_prints_the_stored_range_filtered_and_exits(server_url: str) -> None:
    stream = str(uuid.uuid4())
    post(server_url, stream, {"message": "2020 disk", "timestamp": "2020-06-01T12:00:00Z", "level": "error"},
         {"message": "2020 cpu", "timestamp": "2020-06-01T12:00:01Z", "level": "error"},
         {"message": "2021 disk", "timestamp": "2021-06-01T12:00:00Z", "level": "info"},
         {"message": "2024 Disk", "timestamp": "2024-06-01T12:00:00Z", "level": "critical"},
         {"message": "now disk", "level": "error"})
    result = subprocess.run([*BUNNYLOGS, "tail", f"{server_url}/{stream}", "--since", "2020-06-01T12:00:00Z",
                             "--until", "1h", "--level", "warn", "--grep", "disk", "-i", "--json"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["message"] for line in result.stdout.splitlines()] == ["2020 disk", "2024 Disk"]


@pytest.mark.parametrize(("grep", "found"), [("text and bold", True), ("31m", False)])
def test_tail_greps_a_coloured_message_as_shown_with_or_without_since(server_url: str, grep: str,
                                                                      found: bool) -> None:
    # The server searches the message as shown, tail searched it with its colour codes: with --since
    # (the server's pages) `31m` found nothing, without it the line; `text and bold` neither.
    stream = str(uuid.uuid4())
    coloured = "\x1b[31mred text\x1b[0m and \x1b[1;42mbold green\x1b[0m"
    post(server_url, stream, {"message": coloured}, {"message": "plain"})
    ranged = subprocess.run([*BUNNYLOGS, "tail", f"{server_url}/{stream}", "--since", "1h", "--until", "0s",
                             "--grep", grep, "--json"], capture_output=True, text=True, timeout=30)
    assert ranged.returncode == 0, ranged.stderr
    expected = [coloured] if found else []
    assert [json.loads(line)["message"] for line in ranged.stdout.splitlines()] == expected
    process, output = start_tail(f"{server_url}/live/{stream}", "-n", "10", "--grep", f"{grep}|^plain$", "--json")
    try:
        assert [json.loads(line)["message"] for line in output.take(len(expected) + 1, timeout=30)] == \
            [*expected, "plain"]
    finally:
        stop(process)


@pytest.mark.parametrize(("args", "said"), [
    (["--since", "15"], "--since '15' is not a time: use ISO 8601"),
    (["--until", "yesterday"], "--until 'yesterday' is not a time"),
    (["--since", "1h", "--until", "2h"], "--since must be earlier than --until"),
])
def test_tail_with_a_bad_time_says_why_in_one_line(args: list[str], said: str) -> None:
    result = subprocess.run([*BUNNYLOGS, "tail", f"http://127.0.0.1:9/live/{uuid.uuid4()}", *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith(f"bunnylogs tail: {said}") and result.stderr.count("\n") == 1
