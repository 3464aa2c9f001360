"""`bunnylogs pipe` and `bunnylogs tail` end to end, as subprocesses against real servers."""

from __future__ import annotations

import asyncio
import http.server
import json
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dashboard.protocol import RESUMED_FROM_START_NOTICE
from harness.servers import AppProcess, free_port, running_app, viewers_fed, wait_for_viewers

from ..support import SENTINEL
from .test_handler import read_all, wait_for_entries

BUNNYLOGS = [sys.executable, "-m", "dashboard"]


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with running_app() as app:
        yield app


def post(base_url: str, stream: str, *entries: dict) -> None:
    response = httpx.post(f"{base_url}/live/{stream}", json=list(entries), timeout=10)
    assert response.status_code == 204, response.text


class LineReader:
    """Collects a subprocess's output lines on a thread, so that tests can wait for them."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self._lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=self._pump, args=(process.stdout,), daemon=True).start()

    def _pump(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            self._lines.put(line.rstrip("\n"))

    def take(self, count: int, timeout: float = 10) -> list[str]:
        deadline = time.monotonic() + timeout
        lines = []
        while len(lines) < count:
            remaining = deadline - time.monotonic()
            try:
                lines.append(self._lines.get(timeout=max(remaining, 0.01)))
            except queue.Empty:
                pytest.fail(f"expected {count} lines within {timeout} s, got {lines}")
        return lines

    def take_all(self) -> list[str]:
        """The lines written so far (the process has ended: all it wrote)."""
        lines = []
        while not self._lines.empty():
            lines.append(self._lines.get())
        return lines


def test_pipe_sends_every_line_and_exits_when_all_is_sent(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    text = "".join(f"line {i}\n" for i in range(2500)) + "\n   \nlast line without newline"
    result = subprocess.run([*BUNNYLOGS, "pipe", f"{server.url}/{stream}", "--level", "warn", "--program", "cron"],
                            input=text.encode(), capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"", "without --tee nothing is echoed"
    got = read_all(server.url, stream)
    assert [e["message"] for e in got] == [f"line {i}" for i in range(2500)] + ["last line without newline"]
    assert {(e["level"], e["program"]) for e in got} == {("WARNING", "cron")}


def test_pipe_tee_copies_the_input(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    text = "alpha\nbéta ✓\n"
    result = subprocess.run([*BUNNYLOGS, "pipe", f"{server.url}/live/{stream}", "--tee"],
                            input=text.encode(), capture_output=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout.decode() == text
    assert [e["message"] for e in read_all(server.url, stream)] == ["alpha", "béta ✓"]


def test_tail_f_into_pipe_sends_lines_as_they_are_written(server: AppProcess, tmp_path: Path) -> None:
    stream = str(uuid.uuid4())
    log_file = tmp_path / "app.log"
    log_file.write_text("existing line\n")
    tail_f = subprocess.Popen(["tail", "-n", "+1", "-f", str(log_file)], stdout=subprocess.PIPE)
    pipeline = subprocess.Popen([*BUNNYLOGS, "pipe", f"{server.url}/live/{stream}"], stdin=tail_f.stdout)
    assert tail_f.stdout is not None
    tail_f.stdout.close()  # the pipe process holds the only reading end
    try:
        assert [e["message"] for e in wait_for_entries(server.url, stream, 1)] == ["existing line"]
        with log_file.open("a") as appender:
            appender.write("appended later\n")
        assert [e["message"] for e in wait_for_entries(server.url, stream, 2)] == ["existing line", "appended later"]
    finally:
        tail_f.terminate()
        pipeline.wait(30)
    assert pipeline.returncode == 0, "when tail ends, pipe sends what is left and exits cleanly"


def test_pipe_to_a_server_that_never_answers_counts_the_batch_in_flight() -> None:
    """Every line is told of when pipe gives up: those never sent, and those sent without an answer
    (they may have been stored). The batch in flight was left out: '4 log entries were not sent' of 5."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes connections, never reads nor answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/live/{uuid.uuid4()}"
        result = subprocess.run([*BUNNYLOGS, "pipe", url, "--wait", "2"], input=b"1\n2\n3\n4\n5\n",
                                capture_output=True, timeout=30)
    said = result.stderr.decode()
    assert result.returncode == 1, said
    left = re.search(r"(\d+) log entr(?:y was|ies were) not sent before closing", said)
    unanswered = re.search(r"(\d+) (?:more|log entr(?:y|ies)) (?:was|were) sent but not answered before closing", said)
    assert unanswered is not None, said
    assert (int(left.group(1)) if left else 0) + int(unanswered.group(1)) == 5, said


def test_pipe_to_an_unreachable_server_gives_up_after_wait_and_says_so() -> None:
    url = f"http://127.0.0.1:{free_port()}/live/{uuid.uuid4()}"
    result = subprocess.run([*BUNNYLOGS, "pipe", url, "--wait", "1"], input=b"lost\n", capture_output=True,
                            timeout=30)
    assert result.returncode == 1
    assert "cannot reach" in result.stderr.decode()
    assert "1 log entry was not sent" in result.stderr.decode()


def _first_line_tail_says(url: str) -> str:
    """The first line `bunnylogs tail url` writes to standard error (within 25 s)."""
    tail = subprocess.Popen([*BUNNYLOGS, "tail", url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    said: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: said.put(tail.stderr.readline().decode()), daemon=True).start()
    try:
        return said.get(timeout=25)
    finally:
        tail.terminate()
        tail.wait(10)


def test_tail_from_a_server_that_never_answers_says_so_soon() -> None:
    """tail's first read is a page of /entries, which a server answers at once: silence there is told
    of after PAGE_TIMEOUT_S (15 s), not after the 45 s a live stream may be quiet."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes connections, never reads nor answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/live/{uuid.uuid4()}"
        line = _first_line_tail_says(url)
    assert line.startswith(f"bunnylogs tail: cannot reach {url} (timed out); retrying"), line


class _BusyServer(http.server.BaseHTTPRequestHandler):
    body = b'{"detail": "too many filtered reads at once on this server; retry shortly"}'

    def do_GET(self) -> None:
        body = self.body
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _first_thing_tail_says(handler: type[http.server.BaseHTTPRequestHandler]) -> tuple[str, str]:
    """The URL of a stream on a server that answers with `handler`, and the first line tail says of it."""
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as busy:
        threading.Thread(target=busy.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{busy.server_address[1]}/live/{uuid.uuid4()}"
        try:
            return url, _first_line_tail_says(url)
        finally:
            busy.shutdown()


def test_tail_from_a_busy_server_shows_what_it_answered() -> None:
    """A 503 is a server that is there and busy: tail says what it answered, not that it cannot reach it."""
    url, line = _first_thing_tail_says(_BusyServer)
    assert line == (f"bunnylogs tail: {url} answered 503: too many filtered reads at once on this server; "
                    "retry shortly; retrying\n"), line


class _HostileServer(_BusyServer):
    body = b"busy\r\n\x1b]0;owned\x07\x1b[2J\xe2\x80\xae"


class _HostilePageServer(_BusyServer):
    body = b"<html>\r\n<title>502 \x1b]0;owned\x07&#x1b;[2J\xe2\x80\xae</title><p>\x1b[2J</p></html>"


class _StartsOverEveryTime(http.server.BaseHTTPRequestHandler):
    """A broken or hostile server: on every connection it says the stream started over, sends the same entry
    again and closes."""

    streams_sent = 0

    def do_GET(self) -> None:
        if self.path.split("?")[0].endswith("/entries"):
            body = json.dumps({"entries": [], "next_after": None, "next_before": None, "reached_end": True,
                               "reached_start": True}).encode()
            content_type = "application/json"
        else:
            entry = {"id": "5-0", "ts": 1.0, "level": "INFO", "program": "p", "message": "again"}
            body = f": {RESUMED_FROM_START_NOTICE}\n\nid: 5-0\ndata: {json.dumps(entry)}\n\n".encode()
            content_type = "text/event-stream"
            type(self).streams_sent += 1
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_that_says_the_stream_started_over_on_every_connection_gets_an_entry_printed_twice_at_most(
        ) -> None:
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StartsOverEveryTime) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        process, output = start_tail(f"http://127.0.0.1:{server.server_address[1]}/live/{uuid.uuid4()}")
        try:
            # A fourth connection: tail has read three (the entry; the notice that resets once; one that must not).
            deadline = time.monotonic() + 30
            while _StartsOverEveryTime.streams_sent < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _StartsOverEveryTime.streams_sent >= 4, "tail did not reconnect"
        finally:
            stop(process)
            server.shutdown()
        time.sleep(0.2)  # the reader thread takes the last lines
        printed = output.take_all()
    assert 1 <= len(printed) <= 2, printed


def test_what_a_server_answers_reaches_the_terminal_on_one_line_and_escaped() -> None:
    url, line = _first_thing_tail_says(_HostileServer)
    assert line == f"bunnylogs tail: {url} answered 503: busy \\x1b]0;owned\\x07\\x1b[2J\\u202e; retrying\n", line
    url, line = _first_thing_tail_says(_HostilePageServer)  # named by its title, entities and all
    assert line == (f"bunnylogs tail: {url} answered 503: an HTML page titled '502 \\x1b]0;owned\\x07[2J\\u202e': "
                    "a proxy's, whose server behind it is down or restarting; retrying\n"), line


def test_pipe_rejects_a_url_that_is_not_a_stream() -> None:
    result = subprocess.run([*BUNNYLOGS, "pipe", "http://127.0.0.1:1/live/nope"], input=b"x\n",
                            capture_output=True, timeout=30)
    assert result.returncode == 2
    assert "expected http://host:port/live/<uuid>" in result.stderr.decode()


def start_tail(url: str, *args: str) -> tuple[subprocess.Popen[str], LineReader]:
    process = subprocess.Popen([*BUNNYLOGS, "tail", url, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    return process, LineReader(process)


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    process.wait(10)
    assert process.stderr is not None
    return process.stderr.read()


def test_tail_prints_history_then_live_entries_with_filters(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    post(server.url, stream, *[{"message": f"old {i}"} for i in range(5)])
    before = viewers_fed(server.url)
    process, output = start_tail(f"{server.url}/live/{stream}", "-n", "2")
    try:
        history = output.take(2)
        assert history[0].endswith(" INFO     api old 3") and history[1].endswith(" INFO     api old 4")
        post(server.url, stream, {"message": "fresh", "level": "warning", "program": "web", "fields": {"a": 1}})
        line = output.take(1)[0]
        assert " WARNING  web fresh {\"a\": 1}" in line
        assert "\x1b[" not in line, "no colour when stdout is not a terminal"
    finally:
        stop(process)

    # The server sees the first tail go a moment after it ended: count from after that.
    followers = asyncio.run(wait_for_viewers(server.url, lambda count: count <= before, timeout_s=10))
    process, output = start_tail(f"{server.url}/live/{stream}", "-n", "0", "--json", "--level", "WARNING",
                                 "--grep", "^disk", "-i")
    try:
        # Once it follows the stream, entries from now on are live.
        asyncio.run(wait_for_viewers(server.url, lambda count: count > followers, timeout_s=10))
        post(server.url, stream, {"message": "disk full", "level": "error"}, {"message": "disk ok", "level": "info"},
             {"message": "cpu hot", "level": "error"}, {"message": "Disk slow", "level": "warning"})
        post(server.url, stream, {"message": f"disk {SENTINEL}", "level": "error"})  # passes the filters
        shown = [json.loads(line) for line in output.take(3)]
        assert [(e["message"], e["level"]) for e in shown] == [("disk full", "ERROR"), ("Disk slow", "WARNING"),
                                                               (f"disk {SENTINEL}", "ERROR")]
        assert all(e["id"] for e in shown)
    finally:
        stop(process)


def test_tail_reconnects_across_a_server_restart_without_gap_or_duplicate(redis_url: str) -> None:
    stream = str(uuid.uuid4())
    viewer = AppProcess("--redis-url", redis_url).start()
    with running_app("--role", "ingest", "--redis-url", redis_url) as ingest:
        try:
            post(ingest.url, stream, {"message": "before 0"}, {"message": "before 1"})
            process, output = start_tail(f"{viewer.url}/live/{stream}", "-n", "5", "--json")
            try:
                assert [json.loads(line)["message"] for line in output.take(2)] == ["before 0", "before 1"]
                # Its event stream open (else, on a busy machine, the stop came before it and it never was)
                deadline = time.monotonic() + 20
                while viewers_fed(viewer.url) < 1 and time.monotonic() < deadline:
                    time.sleep(0.02)
                viewer.stop()
                post(ingest.url, stream, *[{"message": f"while down {i}"} for i in range(3)])
                viewer.start()
                post(ingest.url, stream, {"message": "after restart"})
                post(ingest.url, stream, {"message": SENTINEL})
                messages = [json.loads(line)["message"] for line in output.take(5, timeout=20)]
                assert messages == ["while down 0", "while down 1", "while down 2", "after restart", SENTINEL]
            finally:
                errors = stop(process)
            assert "connection lost" in errors and "reconnected" in errors
        finally:
            viewer.stop()


class ClockAheadApp(AppProcess):
    """A server whose clock is an hour ahead: its entry IDs are those of an hour from now."""

    def command(self) -> list[str]:
        shift = ("import runpy, sys, time; real = time.time; time.time = lambda: real() + 3600; "
                 "sys.argv = ['dashboard', *sys.argv[1:]]; runpy.run_module('dashboard', run_name='__main__')")
        return [sys.executable, "-c", shift, "serve", *self.args]


@pytest.mark.parametrize("tail_back_first", [True, False], ids=["tail-back-first", "lines-first"])
def test_tail_across_a_restart_with_the_clock_behind_prints_the_new_lines(tail_back_first: bool) -> None:
    """A memory-bus server restarted with its clock behind the one before gives IDs below the last one
    tail printed: tail asked for what came after that, and printed nothing, ever."""
    stream = str(uuid.uuid4())
    ahead = ClockAheadApp().start()
    try:
        post(ahead.url, stream, {"message": "from the clock ahead"})
        process, output = start_tail(f"{ahead.url}/live/{stream}", "--json")
        try:
            assert [json.loads(line)["message"] for line in output.take(1)] == ["from the clock ahead"]
            ahead.stop()
            behind = AppProcess(port=ahead.port).start()  # the clock right again: lower IDs
            try:
                if tail_back_first:  # to a stream that holds nothing yet
                    asyncio.run(wait_for_viewers(behind.url, 1))
                post(behind.url, stream, {"message": "after the restart"}, {"message": SENTINEL})
                messages = [json.loads(line)["message"] for line in output.take(2, timeout=20)]
                assert messages == ["after the restart", SENTINEL]
            finally:
                behind.stop()
        finally:
            errors = stop(process)
        assert RESUMED_FROM_START_NOTICE in errors
    finally:
        ahead.stop()


def test_tail_of_a_bad_url_says_why(server: AppProcess) -> None:
    result = subprocess.run([*BUNNYLOGS, "tail", f"{server.url}/live/{uuid.uuid4()}", "--grep", "("],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "is not a regular expression" in result.stderr


@pytest.mark.parametrize(("given", "shown"), [
    ("warn", ["WARNING", "ERROR", "CRITICAL"]),
    ("Warning", ["WARNING", "ERROR", "CRITICAL"]),
    ("30", ["WARNING", "ERROR", "CRITICAL"]),
    ("40", ["ERROR", "CRITICAL"]),
    ("err", ["ERROR", "CRITICAL"]),
    ("fatal", ["CRITICAL"]),
    ("trace", ["TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"]),
    ("5", ["TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"]),
    ("0040", ["ERROR", "CRITICAL"]),
    ("notice", ["NOTICE", "WARNING", "ERROR", "CRITICAL"]),
])
def test_tail_level_takes_names_aliases_and_numbers(server: AppProcess, given: str, shown: list[str]) -> None:
    stream = str(uuid.uuid4())
    levels = ["TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"]
    post(server.url, stream, *[{"message": level.lower(), "level": level} for level in levels])
    process, output = start_tail(f"{server.url}/live/{stream}", "-n", "10", "--json", "--level", given)
    try:
        assert [json.loads(line)["level"] for line in output.take(len(shown))] == shown
        post(server.url, stream, {"message": "sentinel", "level": "critical"})
        assert json.loads(output.take(1)[0])["message"] == "sentinel"  # nothing else came before it
    finally:
        stop(process)


@pytest.mark.parametrize("given", ["loud noise", "51", "²", "-1", "warnnig", "custom", "", "9" * 50])
def test_tail_refuses_a_level_that_is_none(given: str) -> None:
    result = subprocess.run([*BUNNYLOGS, "tail", f"http://127.0.0.1:9/live/{uuid.uuid4()}", "--level", given],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "level" in result.stderr and "Traceback" not in result.stderr
