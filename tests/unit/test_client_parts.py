"""The client's pieces that need no server: entries within the server's limits, URLs, retry timing, output."""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import http.server
import itertools
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from dashboard.client import entries
from dashboard.client.handler import BunnyLogsHandler, _level_of
from dashboard.client.sender import BatchSender, _retry_after, _size_text, backoff, error_detail
from dashboard.client.tail import format_line, means_the_same_on_the_server, server_filters, tail
from dashboard.client.urls import BadStreamUrl, sending_url, stream_url
from dashboard.entry import normalize_level
from dashboard.parsing import EntryDefaults, build_entry
from dashboard.protocol import BATCH_KEY_PATTERN, MAX_BODY_BYTES, MAX_MESSAGE_BYTES, level_rank, view_key
from harness.servers import free_port

STREAM = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"
DEFAULTS = EntryDefaults(level="INFO", program="api", received_at=0.0)


@pytest.mark.parametrize("message", ["", "x" * 200_000, "ü" * 40_000, "ok"])
@pytest.mark.parametrize("level", ["INFO", "Level 5", 7, 99, "TRACE"])
def test_every_encoded_entry_is_one_the_server_accepts(message: str, level: str | int) -> None:
    awkward = {"n": float("nan"), "big": 2**80, "obj": object(), "deep": [[[[[[[[[[1]]]]]]]]]]}
    encoded = entries.encode_entry(message, level=level, program="p" * 300, timestamp=1.5, fields=awkward)
    accepted = build_entry(json.loads(encoded), DEFAULTS)  # raises if the server would refuse it
    assert accepted.timestamp == 1.5


def accepted_whole(encoded: bytes) -> dict:
    """The entry `encoded` as the server takes it, alone in a batch; its JSON."""
    assert len(encoded) <= entries.MAX_ENTRY_BYTES
    assert len(b"[" + encoded + b"]") <= MAX_BODY_BYTES
    build_entry(json.loads(encoded), DEFAULTS)  # raises if the server would refuse it
    return json.loads(encoded)


@pytest.mark.parametrize("blob", ["a" * 2_000_000, '"' * 600_000, "\U0001f600" * 300_000, "\x01" * 200_000,
                                  "\U0001f600" * 400_000, "字" * 1_000_000, "\x01" * 300_000])
def test_long_texts_in_fields_too_large_for_any_body_are_cut_and_say_so(blob: str) -> None:
    """One `extra=` value of megabytes made the entry larger than any body: the server refused it (413),
    and the line was lost."""
    encoded = entries.encode_entry("the line", level="INFO", program="p", timestamp=1.5,
                                   fields={"blob": blob, "request": "r-42", "n": 1})
    entry = accepted_whole(encoded)
    assert entry["message"] == "the line"
    assert (entry["fields"]["request"], entry["fields"]["n"]) == ("r-42", 1)  # the small ones kept whole
    assert entry["fields"]["blob"].startswith(blob[:100]) and re.search(r" … \[cut [\d,]+ characters\]$",
                                                                        entry["fields"]["blob"])


@pytest.mark.parametrize(("count", "text"), [(60, "é" * 20_000), (2000, "a" * 256 + "\U0001f600" * 200),
                                           (1200, "a" * 256 + "\x01" * 300), (300, "a" * 1000 + "字" * 2000)])
def test_many_long_texts_of_many_bytes_each_are_cut_and_the_small_values_kept(count: int, text: str) -> None:
    """Texts whose start takes fewer bytes a character than their end: what a cut saves was reckoned from
    their average, too low, and every small value went into one `cut` field."""
    fields = {**{f"k{n}": text for n in range(count)}, "order": 42}
    entry = accepted_whole(entries.encode_entry("m", level="INFO", program="p", timestamp=1.5, fields=fields))
    assert entry["fields"]["order"] == 42 and entry["fields"][f"k{count - 1}"].endswith(" characters]")


def test_fields_too_large_even_with_their_texts_cut_keep_the_start_of_their_json() -> None:
    numbers = list(range(300_000))  # 2 MB of JSON in numbers
    entry = accepted_whole(entries.encode_entry("m", level="INFO", program="p", timestamp=1.5,
                                                fields={"numbers": numbers}))
    cut = entry["fields"]["cut"]
    assert cut.startswith('{"numbers": [0, 1, 2, 3') and "fields cut: the first" in cut
    assert len(cut) > 500_000  # as much of them as fits is kept
    quoted = accepted_whole(entries.encode_entry("m", level="INFO", program="p", timestamp=1.5,
                                                 fields={"q": ['"'] * 300_000}))
    assert not re.search(r"\\(u[0-9a-f]{0,3})? … \[fields cut", quoted["fields"]["cut"])  # not inside an escape


def test_an_integer_too_long_to_write_does_not_lose_the_line() -> None:
    entry = accepted_whole(entries.encode_entry("m", level="INFO", program="p", timestamp=1.5,
                                                fields={"n": 10**5000, "m": 2**70}))
    assert entry["fields"] == {"n": "<an integer of about 5,001 digits>", "m": str(2**70)}


def test_a_long_message_is_cut_and_says_so() -> None:
    message = entries.fit_message("é" * 100_000)
    assert len(message.encode()) <= MAX_MESSAGE_BYTES
    assert message.endswith("bytes]") and "cut" in message


def test_level_names_the_server_would_refuse_become_info_and_numbers_are_clamped_to_0_50() -> None:
    assert entries.fit_level("Level 5") == "INFO"
    assert normalize_level(entries.fit_level(5)) == "DEBUG"
    assert entries.fit_level(75) == 50 and entries.fit_level("WARNING") == "WARNING"


def test_unrepresentable_values_do_not_lose_the_line() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert entries.jsonable({"x": Broken()})["x"].startswith("<unrepresentable Broken")
    assert entries.jsonable({1: (1, 2), "s": {3}}) == {"1": [1, 2], "s": [3]}


@pytest.mark.parametrize(("given", "expected"), [
    (f"http://h:8000/live/{STREAM}", f"http://h:8000/live/{STREAM}"),
    (f"http://h:8000/{STREAM}", f"http://h:8000/live/{STREAM}"),
    (f"https://h/logs/{STREAM.upper()}/", f"https://h/logs/live/{STREAM}"),
    (f"  http://h/live/{STREAM}?x=1  ", f"http://h/live/{STREAM}"),
    (f"http://[::1]/{STREAM}", f"http://[::1]/live/{STREAM}"),
    (f"http://Bücher.example:81/journaux/été/{STREAM}", f"http://xn--bcher-kva.example:81/journaux/%C3%A9t%C3%A9/live/{STREAM}"),
    (f"http://xn--bcher-kva.example/{STREAM}", f"http://xn--bcher-kva.example/live/{STREAM}"),
    (f"http://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\u3002com/{STREAM}",  # full width, as browsers map it
     f"http://example.com/live/{STREAM}"),
    (f"http://[fe80::1%25eth0]:8000/{STREAM}", f"http://[fe80::1%eth0]:8000/live/{STREAM}"),  # a zone, RFC 6874
    (f"http://[fe80::1%eth0]/{STREAM}", f"http://[fe80::1%eth0]/live/{STREAM}"),
    (f"http://h/ünï/../live/{STREAM}", f"http://h/live/{STREAM}"),  # dot segments resolved, as by a browser
    (f"http://h/a/./b/%2E%2e/{STREAM}", f"http://h/a/live/{STREAM}"),
])
def test_stream_urls_are_made_canonical(given: str, expected: str) -> None:
    assert stream_url(given) == expected


@pytest.mark.parametrize(("given", "expected"), [
    (f"http://h/live/{STREAM}?program=café", f"http://h/live/{STREAM}?program=caf%C3%A9"),
    (f"http://h/live/{STREAM}?program=caf\udce9", f"http://h/live/{STREAM}?program=caf%E9"),  # a non-UTF-8 argv
    (f"http://h/live/{STREAM}?program=caf%C3%A9", f"http://h/live/{STREAM}?program=caf%C3%A9"),
])
def test_a_senders_query_is_sent_as_a_browser_would_send_it(given: str, expected: str) -> None:
    """Non-ASCII in a handler's URL was taken, then failed at every send (UnicodeEncodeError, retried)."""
    assert sending_url(given) == expected


@pytest.mark.parametrize("given", ["h:8000/live/x", f"ftp://h/live/{STREAM}", "http://h/live/not-a-uuid", "http:///x"])
def test_bad_stream_urls_say_what_is_expected(given: str) -> None:
    with pytest.raises(BadStreamUrl, match="expected http://host:port/live/<uuid>"):
        stream_url(given)


@pytest.mark.parametrize("given", [f"http://h:8000/{view_key(STREAM)}", f"http://h/live/{view_key(STREAM).upper()}?x=1"])
def test_a_read_only_link_is_a_url_to_read_but_not_to_send_to(given: str) -> None:
    assert stream_url(given).endswith(f"/live/{view_key(STREAM)}")
    with pytest.raises(BadStreamUrl, match=r"is a read-only link: it can follow the stream .* but not send to it"):
        sending_url(given)
    with pytest.raises(ValueError, match="read-only link"):
        BunnyLogsHandler(given)
    assert sending_url(f"http://h/{STREAM}?level=warn") == f"http://h/live/{STREAM}?level=warn"


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    first = [backoff(1, 0.1, 5.0) for _ in range(200)]
    assert min(first) >= 0.05 and max(first) <= 0.1 and len(set(first)) > 100
    assert all(0.1 <= backoff(2, 0.1, 5.0) <= 0.2 for _ in range(100))
    assert all(2.5 <= backoff(20, 0.1, 5.0) <= 5.0 for _ in range(100))
    assert backoff(10_000, 0.1, 5.0) <= 5.0


def test_error_detail_reads_our_json_errors_and_falls_back_to_the_body() -> None:
    assert error_detail(b'{"detail": "no such stream"}') == "no such stream"
    assert error_detail(b"") == "no detail"
    # On one line, escaped as tail escapes log text: a server's words reach a terminal.
    assert error_detail("upstream\r\n  timed out\x1b[2J") == "upstream timed out\\x1b[2J"
    assert error_detail(b'{"detail": "a\\u001b[31mb"}') == "a\\x1b[31mb"
    assert error_detail('{"detail": "bad \u202eevil\u200b"}') == "bad \\u202eevil\\u200b"  # a bidirectional override


@pytest.mark.parametrize(("body", "said"), [
    ("<!doctype html><html><head><title>No such page &middot; BunnyLogs</title>", "titled 'No such page · BunnyLogs'"),
    ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>", "titled '502 Bad Gateway'"),
    ("  <HTML><BODY>gone</BODY></HTML>", "an HTML page, not"),
])
def test_an_html_page_in_answer_is_named_by_its_title_not_dumped(body: str, said: str) -> None:
    """A wrong path prefix (or a proxy's error page) printed the page's first 200 characters of markup."""
    detail = error_detail(body.encode())
    assert said in detail and "is the URL right?" in detail and "<" not in detail


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_proxy_s_html_page_for_a_server_away_is_not_taken_for_a_wrong_url(status: int) -> None:
    """nginx's 502 page with both ingest processes down was said as "is the URL right?": the URL was right."""
    page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>"
    assert error_detail(page, status) == ("an HTML page titled '502 Bad Gateway': a proxy's, whose server behind it "
                                          "is down or restarting")
    assert "is the URL right?" in error_detail(page, 404)


def test_the_sender_says_why_a_server_asks_it_to_retry() -> None:
    """The handler and pipe said only "answered 503; retrying", leaving out the server's detail."""
    answers = [b'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 0\r\n'
               b'Content-Length: 42\r\nConnection: close\r\n\r\n{"detail": "the log bus is unavailable"}',
               204]
    problems: list[str] = []
    with stream_server(lambda _: answers.pop(0)) as url:
        sender = BatchSender(url, on_problem=problems.append)
        sender.put(b'{"message": "once"}')
        assert sender.flush(10)
        sender.close(1)
    assert problems == [f"{url} answered 503 (the log bus is unavailable); retrying"], problems


@pytest.mark.parametrize(("size", "text"), [(64 * 2**20, "64 MiB"), (3 * 2**19, "1.5 MiB"), (256 * 1024, "256 KiB"),
                                            (1000, "1,000 bytes"), (1, "1 byte"), (5 * 2**30, "5 GiB"),
                                            (2**20 - 1, "1 MiB"), (int(1.96 * 2**20), "1.96 MiB")])
def test_queue_bounds_are_said_in_the_unit_that_shows_them(size: int, text: str) -> None:
    """The loss report said "0 MiB" for a byte bound under half a mebibyte."""
    assert _size_text(size) == text


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert _retry_after("3") == 3.0
    assert _retry_after("100000") == 60.0, "capped"
    in_two_seconds = email.utils.formatdate(time.time() + 2, usegmt=True)
    assert 0.5 <= (_retry_after(in_two_seconds) or 0) <= 2.0
    assert _retry_after("soon") is None and _retry_after(None) is None


@contextlib.contextmanager
def stream_server(answer: Callable[[bytes], int | bytes], keys: list[str] | None = None,
                  paths: list[str] | None = None, keep_alive: bool = False) -> Iterator[str]:
    """A local HTTP server standing in for BunnyLogs: `answer` gets each POST's body and returns the
    status (with `Retry-After: 0`), or a whole raw answer; each POST's Idempotency-Key goes to `keys`, its
    path and query to `paths`. Its connections are kept alive if `keep_alive`. Yields the stream URL."""

    class Answering(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_POST(self) -> None:
            if keys is not None:
                keys.append(self.headers["idempotency-key"])
            if paths is not None:
                paths.append(self.path)
            status = answer(self.rfile.read(int(self.headers["content-length"])))
            if isinstance(status, bytes):
                self.wfile.write(status)
                return
            self.send_response(status)
            self.send_header("retry-after", "0")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/live/{STREAM}"
    finally:
        server.shutdown()
        server.server_close()


def storing(messages: list[str]) -> Callable[[bytes], int]:
    """An `answer` for `stream_server` that takes each batch (204) and keeps its entries' messages in `messages`."""

    def stored(body: bytes) -> int:
        messages.extend(entry["message"] for entry in json.loads(body))
        return 204

    return stored


@pytest.mark.parametrize("status", [408, 429, 503])
def test_a_request_timeout_and_a_limit_are_retried_not_dropped(status: int) -> None:
    """A server that cut a slow body (408) or is over a limit (429) or down (503) gets the batch again."""
    answers = [status, status, 204]
    bodies: list[bytes] = []

    def answer(body: bytes) -> int:
        bodies.append(body)
        return answers.pop(0)

    with stream_server(answer) as url:
        sender = BatchSender(url, on_problem=None)
        sender.put(b'{"message": "once"}')
        assert sender.flush(10)
        sender.close(1)
    assert len(bodies) == 3 and len(set(bodies)) == 1 and sender.rejected == 0 and sender.retries == 2


def test_a_batch_keeps_its_idempotency_key_across_retries_and_the_next_batch_gets_another() -> None:
    answers = [502, 503, 204, 204]
    bodies: list[bytes] = []
    keys: list[str] = []

    def answer(body: bytes) -> int:
        bodies.append(body)
        return answers.pop(0)

    with stream_server(answer, keys) as url:
        sender = BatchSender(url, on_problem=None)
        sender.put(b'{"message": "first"}')
        assert sender.flush(10)
        sender.put(b'{"message": "second"}')
        assert sender.flush(10)
        sender.close(1)
    assert bodies == [b'[{"message": "first"}]'] * 3 + [b'[{"message": "second"}]']
    assert len(set(keys[:3])) == 1 and keys[3] != keys[0]
    assert all(BATCH_KEY_PATTERN.fullmatch(key) for key in keys)


def test_what_comes_while_a_batch_fails_does_not_join_its_retry() -> None:
    """The retry is the same batch under the same key (the server may have stored the first try, and
    would then store nothing of a bigger one); what came meanwhile goes in a batch of its own."""
    first_arrived = threading.Event()
    more_queued = threading.Event()
    bodies: list[list[str]] = []
    keys: list[str] = []

    def answer(body: bytes) -> int:
        bodies.append([entry["message"] for entry in json.loads(body)])
        if len(bodies) == 1:
            first_arrived.set()
            more_queued.wait(10)
            return 503
        return 204

    with stream_server(answer, keys) as url:
        sender = BatchSender(url, on_problem=None)
        sender.put(b'{"message": "first"}')
        assert first_arrived.wait(10)
        sender.put(b'{"message": "while it failed"}')
        more_queued.set()
        assert sender.flush(10)
        sender.close(1)
    assert bodies == [["first"], ["first"], ["while it failed"]]
    assert keys[0] == keys[1] != keys[2]


def test_an_entry_goes_at_once_and_what_comes_while_it_is_out_goes_together_next() -> None:
    """No waiting for a batch to fill after a quiet spell, even with a long interval; batches grow with
    what arrives while a request is out (a flush sends them without waiting out the interval)."""
    release_first = threading.Event()
    first_arrived = threading.Event()
    bodies: list[list[dict]] = []

    def answer(body: bytes) -> int:
        bodies.append(json.loads(body))
        if len(bodies) == 1:
            first_arrived.set()
            release_first.wait(10)  # the first request is out for as long as the test likes
        return 204

    with stream_server(answer) as url:
        sender = BatchSender(url, interval=60, on_problem=None)
        sender.put(b'{"message": "first"}')
        assert first_arrived.wait(10), "the first entry waited for a batch to fill"
        for n in range(100):
            sender.put(f'{{"message": "while out {n}"}}'.encode())
        release_first.set()
        assert sender.flush(10)
        sender.close(1)
    assert [[entry["message"] for entry in body] for body in bodies] == [
        ["first"], [f"while out {n}" for n in range(100)]]
    assert sender.batches_sent == 2 and sender.sent == 101


def test_a_full_queue_drops_the_oldest_and_counts_them() -> None:
    sender = BatchSender(f"http://127.0.0.1:9/live/{STREAM}", batch_size=10, capacity=10, on_problem=None)
    with sender._lock:  # hold the thread back so that nothing is sent meanwhile
        for i in range(25):
            sender.put(str(i).encode())
        assert list(sender._queue) == [str(i).encode() for i in range(15, 25)]
        assert sender.lost == 15
    sender.close(0)


def test_the_handler_imports_with_the_standard_library_alone() -> None:
    probe = ("import sys; before = set(sys.modules); import dashboard.client; "
             "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
             "print(sorted(new - set(sys.stdlib_module_names) - {'dashboard'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_handler_sends_extra_values_as_fields() -> None:
    record = logging.LogRecord("app.db", logging.INFO, __file__, 1, "hi", (), None)
    record.user_id = 7
    assert BunnyLogsHandler._fields(record) == {"user_id": 7, "logger": "app.db"}
    root = logging.LogRecord("root", logging.INFO, __file__, 1, "hi", (), None)
    assert BunnyLogsHandler._fields(root) is None


def test_tail_lines_escape_control_characters() -> None:
    entry = {"ts": 0.0, "level": "ERROR", "program": "a\x1b]0;x\x07", "message": "red \x1b[31m!\nnext", "id": "1-0"}
    line = format_line(entry, colour=False)
    assert "\x1b" not in line and "\x07" not in line
    assert "red \\x1b[31m!\nnext" in line


def test_tail_level_ranks() -> None:
    assert level_rank("warning") > level_rank("INFO") > level_rank("DEBUG") > level_rank("TRACE")
    assert level_rank("CUSTOM") == level_rank("INFO")


@pytest.mark.parametrize(("number", "name", "stored"), [
    (99, None, "CRITICAL"), (35, "AUDIT LOG", "WARNING"), (5, None, "DEBUG"), (25, "NOTICE", "NOTICE"),
    (logging.ERROR, None, "ERROR"),
])
def test_the_handler_sends_the_number_of_a_level_whose_name_the_server_refuses(
        number: int, name: str | None, stored: str) -> None:
    record = logging.LogRecord("app", number, __file__, 1, "hi", (), None)
    # As logging.addLevelName(number, name) would make it, or the name of a number nobody named (uvicorn,
    # once imported, names 5 TRACE for the whole process).
    record.levelname = name if name is not None else f"Level {number}"
    encoded = json.loads(entries.encode_entry("hi", level=_level_of(record), program="p", timestamp=0.0))
    assert build_entry(encoded, DEFAULTS).level == stored


@pytest.mark.parametrize(("pattern", "sent"), [
    ("disk|quota", True), ("^disk (full|slow)", True), ("[a-z]+ing", True), ("a.c", True), (r"\.", True),
    (r"path\\dir", True), ("disk$", False), (r"\bdisk", False), (r"\d+", False), (r"(?i)disk", False),
    (r"(a)\1", False), ("a{3}", False), ("a*+", False), ("[[:alpha:]]", False), ("x" * 501, False),
])
def test_tail_sends_grep_to_the_server_only_where_it_finds_at_least_as_much(pattern: str, sent: bool) -> None:
    assert means_the_same_on_the_server(pattern) is sent


def test_tail_server_filters() -> None:
    assert server_filters(None, None, None, None) == {}
    assert server_filters(30, re.compile("disk|quota", re.IGNORECASE), 1_795_576_219.5, None) == {
        "level": "30", "q": "disk|quota", "re": "1", "since": "2026-11-25T03:10:19.500000Z"}
    assert server_filters(None, re.compile("disk$"), None, 0.0) == {"until": "1970-01-01T00:00:00Z"}


def test_closing_while_a_batch_without_an_answer_waits_to_be_retried_says_it_may_be_stored() -> None:
    """A batch whose request went out and got no answer (the server closed the connection on it) waits
    to be sent again: at close it may be stored, so it is not 'not sent'. It was, on the commit before."""
    import socket as sockets

    requests = 0

    def hang_up_after_each_request(server: sockets.socket) -> None:
        nonlocal requests
        with contextlib.suppress(OSError):
            while True:
                connection, _ = server.accept()
                with connection:
                    connection.recv(65536)  # the request's head and body: read, never answered
                    requests += 1

    problems: list[str] = []
    with sockets.create_server(("127.0.0.1", 0)) as server:
        threading.Thread(target=hang_up_after_each_request, args=(server,), daemon=True).start()
        sender = BatchSender(f"http://127.0.0.1:{server.getsockname()[1]}/live/{STREAM}", timeout=5.0,
                             on_problem=problems.append)
        for n in range(3):
            sender.put(entries.encode_entry(f"line {n}", level="INFO", program="p", timestamp=1.0, fields=None))
        deadline = time.monotonic() + 20
        while requests < 12 and time.monotonic() < deadline:  # 6 failures: the next try is 1.6 s or more away
            time.sleep(0.01)
        time.sleep(0.2)  # the failure is taken in, the batch back in the queue
        assert not sender.close(timeout=0)
    # The first line may go alone (at once, as the sender is idle), the others behind it never sent.
    said = problems[-1]
    left = re.search(r"^(\d) log entr(?:y was|ies were) not sent before closing", said)
    unanswered = re.search(r"(\d) (?:more|log entr(?:y|ies)) (?:was|were) sent but not answered before closing: "
                           r"the server may or may not have stored (?:it|them)$", said)
    assert unanswered is not None, problems
    assert (int(left.group(1)) if left else 0) + int(unanswered.group(1)) == 3, problems


def test_closing_with_the_server_down_says_the_batch_was_not_sent() -> None:
    import socket as sockets

    with sockets.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]  # closed below: nothing listens there
    problems: list[str] = []
    sender = BatchSender(f"http://127.0.0.1:{port}/live/{STREAM}", on_problem=problems.append)
    sender.put(entries.encode_entry("line", level="INFO", program="p", timestamp=1.0, fields=None))
    deadline = time.monotonic() + 10
    while sender.retries < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not sender.close(timeout=0)
    assert problems[-1] == "1 log entry was not sent before closing: the server did not take it in time", problems


def test_a_retry_after_of_zero_still_waits_the_back_off() -> None:
    """`Retry-After: 0` (or a date past) made the sender retry at once, thousands of times a second."""
    requests: list[float] = []

    def always_busy(_: bytes) -> int:
        requests.append(time.monotonic())
        return 429  # with Retry-After: 0

    with stream_server(always_busy) as url:
        sender = BatchSender(url, on_problem=None)
        sender.put(b'{"message": "m"}')
        time.sleep(1.0)
        sender.close(0)
    assert 2 <= len(requests) <= 12, len(requests)  # back-off from 0.1 s, doubling


def test_entries_logged_during_a_back_off_do_not_cut_it_short() -> None:
    """Each entry that made a batch full woke the waiting sender, which then retried at once: 430 requests a
    second to a server over its limit, whatever its Retry-After."""
    requests: list[float] = []

    def always_busy(_: bytes) -> int:
        requests.append(time.monotonic())
        return 429  # with Retry-After: 0: the back-off, from 0.1 s, doubling

    with stream_server(always_busy) as url:
        sender = BatchSender(url, batch_size=2, on_problem=None)
        until = time.monotonic() + 1.0
        while time.monotonic() < until:
            sender.put(b'{"message": "m"}')
            time.sleep(0.001)
        sender.close(0)
    assert 2 <= len(requests) <= 12, len(requests)


@pytest.mark.parametrize("status", [429, 503, 418])
def test_an_error_answer_with_a_long_body_leaves_the_next_request_a_working_connection(status: int) -> None:
    """Only its first 4 KiB were read: the next request on that connection failed, said as "cannot reach
    (Request-sent)", and at the end an entry was said to be sent but not answered."""
    problems: list[str] = []
    long_error = (b"HTTP/1.1 %d Busy\r\nContent-Type: application/json\r\nContent-Length: 20012\r\n\r\n"
                  b'{"detail": "%s"}' % (status, b"x" * 20_000))
    bodies: list[bytes] = []

    def first_a_long_error(body: bytes) -> int | bytes:
        bodies.append(body)
        return long_error if len(bodies) == 1 else 204

    with stream_server(first_a_long_error, keep_alive=True) as url:
        sender = BatchSender(url, on_problem=problems.append)
        sender.put(b'{"message": "first"}')
        assert sender.flush(10)
        sender.put(b'{"message": "second"}')
        assert sender.close(10)
    assert not any("cannot reach" in problem or "not answered" in problem for problem in problems), problems
    assert json.loads(bodies[-1]) == [{"message": "second"}]


def test_a_redirect_of_the_entries_is_said_with_where_it_goes() -> None:
    """A 301 was said as a refusal with the body's words (often none): not where the stream had moved to."""
    problems: list[str] = []
    moved = b"HTTP/1.1 301 Moved\r\nLocation: https://logs.example/live/x\r\nContent-Length: 0\r\n\r\n"
    with scripted_server([moved]) as (url, _):
        sender = BatchSender(url, on_problem=problems.append)
        sender.put(b'{"message": "m"}')
        assert sender.flush(10)
        sender.close(1)
    assert sender.rejected == 1
    assert problems == [f"{url} refused log entries with 301, dropping them: a redirect to "
                        "https://logs.example/live/x, not followed for log entries (give that address instead)"]


def test_a_queue_past_its_bytes_drops_the_oldest_and_counts_them() -> None:
    sender = BatchSender(f"http://127.0.0.1:9/live/{STREAM}", capacity_bytes=100, on_problem=None)
    with sender._lock:  # hold the thread back so that nothing is sent meanwhile
        for n in range(10):
            sender.put(b"%029d" % n)  # 29 bytes: three fit in 100
        assert list(sender._queue) == [b"%029d" % n for n in (7, 8, 9)]
        assert sender.lost == 7
        sender.put(b"x" * 1000)  # alone over the budget: the newest entry always stays
        assert list(sender._queue) == [b"x" * 1000] and sender.lost == 10
    sender.close(0)


def test_an_unexpected_error_while_sending_is_reported_and_the_sender_goes_on() -> None:
    """Any error but a network one ended the sending thread for good: nothing was sent again."""
    bodies: list[bytes] = []
    problems: list[str] = []

    def stored(body: bytes) -> int:
        bodies.append(body)
        return 204

    with stream_server(stored) as url:
        sender = BatchSender(url, on_problem=problems.append)
        real_post = sender._post
        failures = [RuntimeError("a surprise")]

        def post_failing_once(body: bytes, key: str) -> http.client.HTTPResponse:
            if failures:
                raise failures.pop()
            return real_post(body, key)

        sender._post = post_failing_once  # type: ignore[method-assign]
        sender.put(b'{"message": "kept"}')
        assert sender.flush(10)
        sender.close(1)
    assert [json.loads(body) for body in bodies] == [[{"message": "kept"}]]
    assert any("RuntimeError: a surprise" in problem for problem in problems), problems


@pytest.mark.parametrize("url", [f"http://127.0.0.1:99999/live/{STREAM}", f"http://127.0.0.1:abc/live/{STREAM}",
                                 f"http://{'a' * 64}.example/live/{STREAM}", f"http://127.0.0.1:0/live/{STREAM}",
                                 f"http://[::1/live/{STREAM}", f"http://h/my dir/live/{STREAM}",
                                 f"http://h/live/{STREAM}?program=a b", f"http://h/x\x7f/live/{STREAM}",
                                 f"http://h\u00a0ost/live/{STREAM}", f"http://h/live/{STREAM}?program=\ud800",
                                 f"http://[::1]x:80/live/{STREAM}", f"http://{'a.' * 130}com/live/{STREAM}",
                                 # Python's IDNA maps these otherwise than browsers do, or drops them
                                 f"http://faß.de/live/{STREAM}", f"http://ς.gr/live/{STREAM}",
                                 f"http://ex\u200bample.com/live/{STREAM}"])
def test_a_url_with_a_bad_port_or_host_is_refused_at_once(url: str) -> None:
    """Taken before, each killed the sending thread at its first request (tail connected to port 34463),
    or was retried for ever as "sent but not answered" (a space), or crashed tail (InvalidURL)."""
    with pytest.raises(BadStreamUrl, match="is not a valid URL"):
        stream_url(url)
    with pytest.raises(ValueError, match="is not a valid URL"):
        BatchSender(url)


def test_a_handler_with_non_ascii_in_its_url_delivers() -> None:
    bodies: list[bytes] = []
    paths: list[str] = []
    with stream_server(lambda body: bodies.append(body) or 204, paths=paths) as url:
        handler = BunnyLogsHandler(f"{url}?program=café")
        logger = logging.getLogger("test.non_ascii_url")
        logger.addHandler(handler)
        try:
            logger.warning("délivré")
            assert handler.sender.flush(10)
        finally:
            logger.removeHandler(handler)
            handler.close()
    assert paths == [f"/live/{STREAM}?program=caf%C3%A9"]
    assert [entry["message"] for entry in json.loads(bodies[0])] == ["délivré"]


@pytest.mark.parametrize(("url", "address"), [(f"http://[::1]/live/{STREAM}", ("::1", 80)),
                                              (f"http://[::1]:8123/live/{STREAM}", ("::1", 8123)),
                                              (f"http://localhost/live/{STREAM}", ("localhost", 80)),
                                              (f"http://[fe80::1%25lo]:8123/live/{STREAM}", ("fe80::1%lo", 8123))])
def test_an_ipv6_host_without_a_port_is_reached_on_the_schemes_port(
        url: str, address: tuple[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, http.client read the address's last group as the port: it connected to (':', 1)."""
    tried: list[tuple[str, int]] = []

    def refuse(where: tuple[str, int], *_: object, **__: object) -> None:
        tried.append(where)
        raise ConnectionRefusedError("refused for the test")

    monkeypatch.setattr(http.client.socket, "create_connection", refuse)
    sender = BatchSender(url, on_problem=None)
    sender.put(b'{"message": "m"}')
    deadline = time.monotonic() + 10
    while not tried and time.monotonic() < deadline:
        time.sleep(0.01)
    sender.close(0)
    assert sender._thread is not None
    sender._thread.join(10)  # so that it tries no more while the next case's stand-in is in place
    assert tried[0] == address and not sender._thread.is_alive()


@pytest.mark.parametrize("url", [f"http://me:s3cret@h/live/{STREAM}", f"http://me:s3 cret@h/live/{STREAM}",
                                 f"http://me:s3cret\x07@h/live/{STREAM}", f"http://me:s3cret@[::1/live/{STREAM}"])
def test_a_url_with_a_user_name_or_password_is_refused_without_showing_the_password(url: str) -> None:
    """Taken before, and never sent: a proxy asking for them answered 401 and the lines were dropped, and
    tail printed the password with each failed try. (Those with a space, a control character or an
    unclosed "[" were refused for that, showing the password.)"""
    with pytest.raises(BadStreamUrl, match="holds a user name or password") as refused:
        stream_url(url)
    assert "s3" not in str(refused.value) and "me:" not in str(refused.value)
    with pytest.raises(ValueError, match="holds a user name or password"):
        BunnyLogsHandler(f"http://me:s3cret@h/live/{STREAM}")


def test_a_forked_child_sends_its_own_entries_only_and_never_waits_on_the_parents_lock() -> None:
    """The child inherited the parent's queue and sent it again, and could block on a lock held at the fork."""
    messages: list[str] = []

    with stream_server(storing(messages)) as url:
        sender = BatchSender(url, on_problem=None)
        with sender._lock:  # held across the fork: the parent's queue is not sent yet
            for n in range(3):
                sender.put(b'{"message": "parent %d"}' % n)
            child = os.fork()
            if child == 0:  # pragma: no cover (runs in the child)
                status = 1
                try:
                    sender.put(b'{"message": "child"}')
                    status = 0 if sender.flush(5) and not sender._queue else 1
                finally:
                    os._exit(status)
        deadline = time.monotonic() + 20
        while (waited := os.waitpid(child, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if waited[0] == 0:
            os.kill(child, 9)
            os.waitpid(child, 0)
            pytest.fail("the child hung")
        assert os.waitstatus_to_exitcode(waited[1]) == 0
        assert sender.flush(10)
        sender.close(1)
    assert sorted(messages) == ["child", "parent 0", "parent 1", "parent 2"]


def test_text_with_lone_surrogates_is_sent_as_python_shows_it() -> None:
    """A file name that is not UTF-8 (Python decodes its bytes as lone surrogates) lost its whole record."""
    encoded = entries.encode_entry("report-\udce9.csv", level="INFO", program="p\udc80", timestamp=1.0,
                                   fields={"path\udcff": ["x\udcfe"]})
    accepted = build_entry(json.loads(encoded), DEFAULTS)
    assert (accepted.message, accepted.program) == ("report-\\udce9.csv", "p\\udc80")
    assert accepted.fields() == {"path\\udcff": ["x\\udcfe"]}


def test_pipe_stopped_by_sigterm_sends_what_it_read_first() -> None:
    """SIGTERM (kill, docker stop, systemd) ended pipe at once: lines it had read but not sent were lost."""
    import signal

    messages: list[str] = []

    def slow(body: bytes) -> int:
        time.sleep(0.3)  # so that lines wait in pipe's queue
        messages.extend(entry["message"] for entry in json.loads(body))
        return 204

    with stream_server(slow) as url:
        piping = subprocess.Popen([sys.executable, "-m", "dashboard", "pipe", url], stdin=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        assert piping.stdin is not None
        for n in range(6):
            piping.stdin.write(b"line %d\n" % n)
            piping.stdin.flush()
            time.sleep(0.1)
        piping.send_signal(signal.SIGTERM)
        assert piping.wait(timeout=10) == 128 + signal.SIGTERM, piping.stderr.read() if piping.stderr else ""
        piping.stdin.close()
        if piping.stderr:
            piping.stderr.close()
    assert messages == [f"line {n}" for n in range(6)]


@pytest.mark.parametrize("wait", ["inf", "1e400", "nan", "-1", "soon"])
def test_pipe_refuses_a_wait_it_cannot_keep(wait: str, capsys: pytest.CaptureFixture[str]) -> None:
    """inf ended in an OverflowError traceback, nan never ended with the server down, -1 gave up at once."""
    from dashboard.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["pipe", f"http://127.0.0.1:9/live/{STREAM}", "--wait", wait])
    assert stopped.value.code == 2
    assert "argument --wait" in capsys.readouterr().err


def test_a_redis_url_that_cannot_be_read_is_shown_without_what_may_be_its_password() -> None:
    """Shown in the error of `serve`, it raised again there: a second traceback instead of one line."""
    from dashboard.bus.redis_streams import redacted

    assert redacted("redis://:secret@[::1") == "redis://…"
    assert redacted("redis://:secret@host:6379/0") == "redis://:***@host:6379/0"


def test_pipe_sends_a_long_line_once_a_message_of_it_came_and_drops_the_rest() -> None:
    """Such a line was held whole until its end (a 300 MB line took 902 MB) and only then cut."""
    import io

    from dashboard.client.pipe import LONG_LINE_BYTES, LONG_LINE_MARK, pipe

    messages: list[str] = []

    cut_inside_a_character = "é" * LONG_LINE_BYTES  # two bytes each: the cut falls inside one, or not
    given = (b"short\n" + b"x" * (3 * LONG_LINE_BYTES + 5) + b"\nafter\n"
             + b"z" * LONG_LINE_BYTES + b"\n" + b"w" * LONG_LINE_BYTES + b"\r\n"  # as long as it may be: not cut
             + b"a" + cut_inside_a_character.encode() + b"\n"
             + b"y" * LONG_LINE_BYTES)  # the end of input right after it: not cut
    copied = io.StringIO()
    with stream_server(storing(messages)) as url:
        assert pipe(url, level="INFO", program="p", tee=True, wait_seconds=10, source=io.BytesIO(given),
                    echo=copied) == 0
    assert messages == ["short", "x" * LONG_LINE_BYTES + LONG_LINE_MARK, "after", "z" * LONG_LINE_BYTES,
                        "w" * LONG_LINE_BYTES, "a" + "é" * ((LONG_LINE_BYTES - 1) // 2) + LONG_LINE_MARK,
                        "y" * LONG_LINE_BYTES]
    assert copied.getvalue() == given.decode()  # --tee copies everything


def test_pipe_does_not_mark_a_line_as_long_as_it_may_be_cut_when_the_input_ends_with_a_carriage_return() -> None:
    import io

    from dashboard.client.pipe import LONG_LINE_BYTES, pipe

    messages: list[str] = []

    with stream_server(storing(messages)) as url:
        assert pipe(url, level="INFO", program="p", tee=False, wait_seconds=10,
                    source=io.BytesIO(b"v" * LONG_LINE_BYTES + b"\r\r\n" + b"w" * LONG_LINE_BYTES + b"\r"),
                    echo=None) == 0
    assert messages == ["v" * LONG_LINE_BYTES, "w" * LONG_LINE_BYTES]


def test_pipe_stopped_while_it_waits_for_the_server_says_what_was_lost_and_a_second_signal_ends_it() -> None:
    """A SIGTERM after the end of input, during --wait, ended in a traceback."""
    import signal
    import socket as sockets

    with sockets.create_server(("127.0.0.1", 0)) as closed:
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/live/{STREAM}"  # closed below: nothing listens
    waiting = subprocess.Popen([sys.executable, "-m", "dashboard", "pipe", url, "--wait", "30"],
                               stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert waiting.stdin is not None and waiting.stderr is not None
    waiting.stdin.write(b"hello\n")
    waiting.stdin.close()  # end of input: pipe now waits up to 30 s for the server
    time.sleep(1.5)
    waiting.send_signal(signal.SIGTERM)
    assert waiting.wait(timeout=10) == 1  # not delivered
    said = waiting.stderr.read().decode()
    waiting.stderr.close()
    assert "Traceback" not in said and "1 log entry was not sent" in said, said

    twice = subprocess.Popen([sys.executable, "-m", "dashboard", "pipe", url], stdin=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
    assert twice.stdin is not None
    twice.stdin.write(b"hello\n")
    twice.stdin.flush()
    time.sleep(1.0)
    twice.send_signal(signal.SIGTERM)
    time.sleep(0.3)  # within the 2 s it gives the queue
    twice.send_signal(signal.SIGTERM)
    assert twice.wait(timeout=1.5) == -signal.SIGTERM
    twice.stdin.close()


def test_pipe_tee_copies_the_bytes_as_they_came() -> None:
    """It copied text decoded with replacement characters: bytes that were not UTF-8 came out changed."""
    given = b"caf\xc3\xa9 \xff\xfe ok\n" + b"\xe2\x82" + b"x" * 70_000 + b"\nlast \xc3"

    with stream_server(lambda _: 204) as url:
        piped = subprocess.run([sys.executable, "-m", "dashboard", "pipe", url, "--tee"], input=given,
                               capture_output=True, timeout=30)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == given


@contextlib.contextmanager
def scripted_server(answers: list[bytes]) -> Iterator[tuple[str, list[bytes]]]:
    """A server that answers its connections in turn with `answers` (raw bytes, then it closes each);
    yields its stream URL and the request heads it got."""
    import socket as sockets

    heads: list[bytes] = []
    listener = sockets.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for answer in answers:
            connection, _ = listener.accept()
            with connection:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += connection.recv(4096)
                heads.append(head)
                with contextlib.suppress(OSError):  # a client that read enough may leave before the end
                    connection.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/live/{STREAM}", heads
    finally:
        listener.close()


def _entry(entry_id: str, message: str) -> dict[str, object]:
    return {"id": entry_id, "ts": 1.0, "level": "INFO", "program": "p", "message": message}


def _event(entry_id: str, message: str) -> bytes:
    return f"id: {entry_id}\ndata: {json.dumps(_entry(entry_id, message))}\n\n".encode()


def test_tail_takes_an_answer_cut_short_for_a_break_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 503 whose body was cut short, or an event stream cut inside a chunk, ended tail with an
    IncompleteRead traceback."""
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    first, second = _event("1-0", "one"), _event("2-0", "two")
    cut_page = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\nbusy"
    page = json.dumps({"entries": [], "next_after": "0-0", "reached_end": True}).encode()
    whole_page = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(page), page))
    cut_stream = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"%x\r\n%s\r\n" % (len(first), first) + b"400\r\nid: 2")
    stream = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n%s"
              % (len(second), second))
    said: list[str] = []
    with scripted_server([cut_page, whole_page, cut_stream, stream]) as (url, heads):
        entries = follow.follow(url, history=0, on_status=said.append, read_timeout=5)
        assert [entry["message"] for entry in itertools.islice(entries, 2)] == ["one", "two"]
    assert any("answered 503" in text for text in said), said
    assert any("connection lost" in text for text in said), said
    assert b"last-event-id: 1-0" in heads[3].lower()  # resumed after the last whole event


def _sse(*events: bytes) -> bytes:
    body = b"".join(events)
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def _json_answer(value: object) -> bytes:
    body = json.dumps(value).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def test_tail_takes_what_is_not_an_entry_for_a_broken_stream_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page without entries, an event that is not an entry (a number, one without a program, JSON nested
    past Python's depth) each ended tail with a traceback; a line without an end was held whole (300 MB
    took 637 MB)."""
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    monkeypatch.setattr(follow, "MAX_EVENT_BYTES", 4096)
    good = _entry("2-0", "two")
    not_entries = [b"data: 5\n\n", b"data: " + json.dumps({**good, "program": None}).encode() + b"\n\n",
                   b"data: " + json.dumps({**good, "id": "2-0\r\nX-Evil: 1"}).encode() + b"\n\n",
                   b"data: " + json.dumps(good).replace('"ts": 1.0', '"ts": NaN').encode() + b"\n\n",
                   b"data: " + b"[" * 1_900 + b"]" * 1_900 + b"\n\n", b"data: " + b"x" * 10_000,
                   b"data: x\n" * 2_000]
    said: list[str] = []
    overflowing_chunk = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"FFFFFFFFFFFFFFFFFFFF\r\n")
    answers = [_json_answer({"no": "entries"}), _json_answer({"entries": []}),
               _json_answer({"entries": [], "next_after": "1-0", "reached_end": True}),
               *(_sse(event) for event in not_entries), overflowing_chunk,
               _sse(b"data: " + json.dumps(good).encode() + b"\n\n")]
    with scripted_server(answers) as (url, _):
        entries = follow.follow(url, history=0, on_status=said.append, read_timeout=5)
        assert [entry["message"] for entry in itertools.islice(entries, 1)] == ["two"]
    assert sum("did not answer with a page of entries" in text for text in said) == 1, said  # said once
    # Three in a row: said, then once more ("again"), then not until the stream works.
    assert sum("not a log entry" in text for text in said) == 2, said
    assert any("NaN, which is not JSON" in text for text in said), said
    assert any("nested too deeply" in text for text in said), said
    assert sum("longer than 4,096 bytes" in text for text in said) == 2, said


def test_tail_reads_at_most_the_start_of_an_error_answer_and_survives_its_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 300 MiB error answer was read whole (665 MB), and one nested past Python's depth gave a traceback."""
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    nested = b'{"detail": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    big = b"y" * (8 * 1024 * 1024)
    said: list[str] = []
    answers = [b"HTTP/1.1 503 Busy\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body) for body in (nested, big)]
    page = _json_answer({"entries": [_entry("1-0", "one")], "next_after": "1-0", "reached_end": True})
    with scripted_server([*answers, page]) as (url, _):
        entries = follow.follow(url, history=1, on_status=said.append, read_timeout=5)
        assert next(entries)["message"] == "one"
    assert 'answered 503: {"detail": [[[' in said[0] and len(said[0]) < 5_000, said[0][:300]


def test_a_replay_stops_where_a_server_that_never_says_it_reached_the_end_stops_moving() -> None:
    """--since asked for the same page again and again, without pause (11,292 copies of a line in 4 s)."""
    from dashboard.client import follow

    same = _json_answer({"entries": [_entry("1-0", "one")], "next_after": "1-0", "reached_end": False})
    with scripted_server([same, same]) as (url, heads):
        assert [entry["message"] for entry in follow.replay(url, {}, live=False)] == ["one", "one"]
    assert len(heads) == 2


def test_tail_shows_a_time_no_date_stands_for_as_it_came() -> None:
    line = format_line({"ts": 1e20, "level": "INFO", "program": "p", "message": "m"}, colour=False)
    assert line.startswith("1e+20 ") and line.endswith(" INFO     p m")


def test_tail_says_a_break_that_repeats_once_and_waits_longer_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that sends what is not an entry made tail say "connection lost" and "reconnected" at every
    try, and try again every quarter of a second, for ever."""
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.02)
    waits: list[float] = []
    monkeypatch.setattr(follow.time, "sleep", waits.append)  # the waits, recorded instead of waited
    page = _json_answer({"entries": [], "next_after": "1-0", "reached_end": True})
    said: list[str] = []
    answers = [page, *(_sse(b"data: 5\n\n") for _ in range(5)), _sse(_event("2-0", "two")), _sse(b"data: 5\n\n"),
               _sse(_event("3-0", "three"))]
    with scripted_server(answers) as (url, _):
        entries = follow.follow(url, history=0, on_status=said.append, read_timeout=5)
        assert [entry["message"] for entry in itertools.islice(entries, 2)] == ["two", "three"]
    # The five in a row: said, said "again", then nothing until an entry came, when "reconnected" is said.
    # The server's close after that entry is news, and so is the next bad event.
    lost = "connection lost (the server sent something that is not a log entry)"
    assert said[1:] == [f"{lost}; reconnecting", "reconnected",
                        f"{lost} again, 2 tries in a row; trying less often until it works", "reconnected",
                        "connection lost (the server closed the stream); reconnecting", "reconnected",
                        f"{lost}; reconnecting", "reconnected"], said
    assert waits[0] < waits[2] < waits[4], waits  # doubling, with jitter
    assert waits[5] <= 0.02, waits  # after an entry came, the first wait again


@pytest.mark.parametrize("target", ["ftp://127.0.0.1:9/x", "Ftp://127.0.0.1:9/x", "file:///etc/passwd",
                                    "data:,hello", "javascript:alert(1)", "gopher://127.0.0.1:9/x"])
def test_tail_follows_redirects_to_web_addresses_only(target: str) -> None:
    """urllib followed a redirect to ftp://; one to file: or data: it took for a failure, retried for ever
    ("answered 302: no detail")."""
    from dashboard.client import follow

    page = _json_answer({"entries": [_entry("1-0", "one")], "next_after": "1-0", "reached_end": True})
    away = b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % target.encode()
    with (scripted_server([away]) as (url, heads),
          pytest.raises(follow.StreamGone, match=re.escape(f"a redirect to {target}: not followed"))):
        next(follow.follow(url, history=1, read_timeout=5))
    with scripted_server([b"HTTP/1.1 302 Found\r\nLocation: /moved/entries?limit=1\r\nContent-Length: 0\r\n\r\n",
                          page]) as (url, heads):
        assert next(follow.follow(url, history=1, read_timeout=5))["message"] == "one"
    assert heads[1].startswith(b"GET /moved/entries?limit=1 ")


def test_tail_names_the_address_a_redirect_it_cannot_reach_went_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """A redirect to an https address that failed was said under the http address tail was given."""
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    closed = free_port()
    away = b"HTTP/1.1 301 Moved\r\nLocation: https://127.0.0.1:%d/live/x\r\nContent-Length: 0\r\n\r\n" % closed
    page = _json_answer({"entries": [_entry("1-0", "one")], "next_after": "1-0", "reached_end": True})
    said: list[str] = []
    with scripted_server([away, page]) as (url, _):
        assert next(follow.follow(url, history=1, on_status=said.append, read_timeout=5))["message"] == "one"
    assert said[0].startswith(f"cannot reach {url} (redirected to https://127.0.0.1:{closed}/live/x: "), said


def test_tail_names_a_redirect_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    loop = b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"
    page = _json_answer({"entries": [_entry("1-0", "one")], "next_after": "1-0", "reached_end": True})
    said: list[str] = []
    with scripted_server([loop] * 5 + [page]) as (url, _):
        assert next(follow.follow(url, history=1, on_status=said.append, read_timeout=5))["message"] == "one"
    assert "answered 302: The HTTP server returned a redirect error that would lead to an infinite loop." in said[0]


def test_tail_names_an_answer_that_is_not_json_or_is_encoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 200 that is not JSON said "Expecting value: line 1 column 1 (char 0)", and a gzip answer a
    decoding error."""
    import gzip

    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    page = json.dumps({"entries": [_entry("1-0", "one")], "next_after": "1-0", "reached_end": True}).encode()
    zipped = gzip.compress(page)
    html = b"<html>hello</html>"
    answers = [b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(html), html),
               b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(zipped), zipped),
               _json_answer(json.loads(page))]
    said: list[str] = []
    with scripted_server(answers) as (url, _):
        assert next(follow.follow(url, history=1, on_status=said.append, read_timeout=5))["message"] == "one"
    assert len(said) == 1 and said[0].endswith(": the server sent what is not JSON; retrying"), said
    answers = [b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(zipped), zipped),
               _json_answer(json.loads(page))]
    said.clear()
    with scripted_server(answers) as (url, _):
        assert next(follow.follow(url, history=1, on_status=said.append, read_timeout=5))["message"] == "one"
    assert said[0].endswith("answer is encoded (gzip), which tail did not ask for; retrying"), said


def test_tail_json_escapes_what_could_drive_the_terminal() -> None:
    """`--json` printed U+202E, DEL and C1 controls (`\\x9b` is CSI on some terminals) raw."""
    import io

    message = "a\u202eb \x9b31m \x7f \u2028 \x01 é ✓"
    entry = {**_entry("1-0", message), "fields": {"k\u2066": "\x85"}}
    out = io.StringIO()
    page = _json_answer({"entries": [entry], "next_after": "1-0", "reached_end": True})
    with scripted_server([page]) as (url, _):
        assert tail(url, min_rank=None, pattern=None, as_json=True, history=0, since=0.0, until=10.0, out=out) == 0
    line = out.getvalue()
    assert json.loads(line) == entry  # the same JSON
    assert not any(ch in line for ch in "\u202e\x9b\x7f\u2028\x01\u2066\x85"), line
    assert "é ✓" in line and "\\u202e" in line and "\\u009b" in line


def test_tail_takes_an_event_stream_only_and_never_prints_an_entry_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page in place of the stream was said as "the server closed the stream"; a server that did not
    resume after Last-Event-ID had tail print its entries again at each reconnection."""
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    page = _json_answer({"entries": [], "next_after": "1-0", "reached_end": True})
    html = b"<html>hi</html>"
    not_coded = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: \r\n\r\n"
    answers = [page, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(html), html),
               _sse(_event("1-0", "old"), _event("2-0", "two")), _sse(_event("1-0", "old"), _event("2-0", "two")),
               not_coded + _event("3-0", "three")]
    said: list[str] = []
    with scripted_server(answers) as (url, _):
        entries = follow.follow(url, history=0, on_status=said.append, read_timeout=5)
        assert [entry["message"] for entry in itertools.islice(entries, 2)] == ["two", "three"]
    assert f"{url}: the server did not answer with an event stream (Content-Type: text/html); reconnecting" in said


@pytest.mark.parametrize("as_json", [False, True])
def test_tail_prints_lone_surrogates_and_what_its_output_cannot_encode_escaped(as_json: bool) -> None:
    """A lone surrogate from a foreign server (JSON's "\\ud800"), or an emoji on a latin-1 terminal, ended
    tail with a UnicodeEncodeError traceback."""
    import io

    entry = {**_entry("1-0", "lone \ud800 é 😀"), "fields": {"k": "\udfff"}}
    body = json.dumps({"entries": [entry], "next_after": "1-0", "reached_end": True}).encode()
    page = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    for encoding in ("utf-8", "latin-1", "ascii"):
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding=encoding)
        with scripted_server([page]) as (url, _):
            assert tail(url, min_rank=None, pattern=None, as_json=as_json, history=0, since=0.0, until=10.0,
                        out=out) == 0
        out.flush()
        line = raw.getvalue().decode(encoding)
        if as_json:
            assert json.loads(line) == entry, (encoding, line)
        else:
            assert "lone \\ud800 " in line and "\\udfff" in line, (encoding, line)
            assert ("é 😀" in line) if encoding == "utf-8" else ("\\U0001f600" in line), (encoding, line)


@pytest.mark.parametrize("target", ["http://user:s3cret@127.0.0.1:1/x", "ftp://user:s3cret@127.0.0.1/x"])
def test_tail_follows_no_redirect_to_an_address_with_a_password_and_never_shows_it(target: str) -> None:
    """One to http:// with a password was looked up as a host name, for ever; one to ftp:// showed it."""
    from dashboard.client import follow

    away = b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % target.encode()
    with scripted_server([away]) as (url, _), pytest.raises(follow.StreamGone) as refused:
        next(follow.follow(url, history=1, read_timeout=5))
    assert "s3cret" not in str(refused.value) and "a redirect to " + target.split("://")[0] + "://…@127.0.0.1" in str(
        refused.value), refused.value


def test_tail_says_breaks_that_differ_only_in_numbers_once_and_a_quiet_recovery(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A 503 whose words changed at each try (a request ID) was said at every try, for ever; a quiet stream
    that worked again after a break said twice was never said to. The first connection, after breaks,
    says "following" (it also said "reconnected")."""
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    monkeypatch.setattr(follow, "HEALTHY_CONNECTION_S", 0.0)  # any line of an open stream: it held
    page = _json_answer({"entries": [], "next_after": "1-0", "reached_end": True})
    busy = [b"HTTP/1.1 503 Busy\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
            b'{"detail": "busy, try %d"}' % n for n in range(1, 5)]
    said: list[str] = []
    quiet = _sse(b": keepalive\n\n")
    with scripted_server([page, *busy[:2], quiet, *busy[2:], quiet, _sse(_event("2-0", "two"))]) as (url, _):
        entries = follow.follow(url, history=0, on_status=said.append, read_timeout=5)
        assert next(entries)["message"] == "two"
    closed = "connection lost (the server closed the stream); reconnecting"
    assert said == [f"{url} answered 503: busy, try 1; reconnecting",
                    f"{url} answered 503: busy, try 2 again, 2 tries in a row; trying less often until it works",
                    f"following {url}", closed,
                    f"{url} answered 503: busy, try 3; reconnecting",
                    f"{url} answered 503: busy, try 4 again, 3 tries in a row; trying less often until it works",
                    "reconnected", closed, "reconnected"], said


def test_tail_says_what_the_server_says_on_the_stream_but_not_its_keep_alives(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis away, back, or restarted without its data: the server says so on the stream, and tail said
    nothing (a silent stall, and lines gone unannounced)."""
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    page = _json_answer({"entries": [], "next_after": "0-0", "reached_end": True})
    stream = _sse(b"retry: 1000\n: connected\n\n", b": keep-alive\n\n",
                  b": the log bus is unavailable; reconnecting\n\n",
                  b": Redis restarted without its data: lines \x1b[31mgone\n\n", _event("1-0", "one"),
                  b": the server is stopping; reconnect with Last-Event-ID to resume\n\n")
    said: list[str] = []
    with scripted_server([page, stream, _sse(_event("2-0", "two"))]) as (url, _):
        entries = follow.follow(url, history=0, on_status=said.append, read_timeout=5)
        assert [entry["message"] for entry in itertools.islice(entries, 2)] == ["one", "two"]
    notices = [text for text in said if text.startswith("the server says: ")]
    assert notices == ["the server says: the log bus is unavailable; reconnecting",
                       "the server says: Redis restarted without its data: lines \x1b[31mgone"]
    assert not any("keep-alive" in text or "stopping" in text for text in said), said


def test_tail_tells_a_few_of_a_chatty_server_s_comments_not_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server commenting on every line (`: tick N`) filled stderr: 4,011 lines in 3 s."""
    from dashboard.client import follow

    monkeypatch.setattr(follow, "RECONNECT_FIRST_S", 0.01)
    page = _json_answer({"entries": [], "next_after": "0-0", "reached_end": True})
    chatter = [b": the same\n\n"] * 3 + [b": tick %d\n\n" % n for n in range(2000)]
    said: list[str] = []
    with scripted_server([page, _sse(*chatter, _event("1-0", "one"))]) as (url, _):
        entries = follow.follow(url, history=0, on_status=said.append, read_timeout=5)
        assert [entry["message"] for entry in itertools.islice(entries, 1)] == ["one"]
    notices = [text.removeprefix("the server says: ") for text in said if text.startswith("the server says: ")]
    assert notices == ["the same", *(f"tick {n}" for n in range(9)),
                       "… (its further comments on this connection are not shown)"], notices


def test_entries_dropped_from_a_full_queue_are_said_as_it_fills_and_at_closing() -> None:
    """With the server away for good, the handler said only what was left at closing: 100,000 records
    dropped from its full queue before were never told of."""
    import socket as sockets

    with sockets.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]  # closed below: nothing listens there
    problems: list[str] = []
    sender = BatchSender(f"http://127.0.0.1:{port}/live/{STREAM}", batch_size=2, capacity=4,
                         on_problem=problems.append)
    for n in range(10):
        sender.put(entries.encode_entry(f"line {n}", level="INFO", program="p", timestamp=1.0, fields=None))
    deadline = time.monotonic() + 10
    while not any("queue is full" in text for text in problems) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(text.startswith("the queue is full (4 entries or 64 MiB): ")
               and " dropped so far, the oldest first" in text for text in problems), problems
    assert not sender.close(timeout=0)
    assert sender.lost == 6
    assert problems[-1].endswith("; 6 more were dropped before, because the queue was full"), problems


def _warnings_and_messages(bodies: list[bytes]) -> tuple[list[int], list[str]]:
    """Of the batches a server took: the drops each WARNING entry told of, and the other entries' messages."""
    told: list[int] = []
    messages: list[str] = []
    for body in bodies:
        for entry in json.loads(body):
            if "bunnylogs_lost" in (entry.get("fields") or {}):
                told.append(entry["fields"]["bunnylogs_lost"])
            else:
                messages.append(entry["message"])
    return told, messages


def test_a_report_of_drops_that_a_full_queue_drops_in_turn_is_told_in_the_next_one() -> None:
    """The WARNING entry that tells the stream of drops waits at the front of the queue, the oldest: a queue
    full again dropped it first, and the stream never heard of those drops (nor were they counted right)."""
    bodies: list[bytes] = []
    with stream_server(lambda body: bodies.append(body) or 204) as url:
        sender = BatchSender(url, batch_size=2, capacity=4, on_problem=None)
        with sender._lock:  # the sending thread waits: the queue is as an outage left it
            sender._count_lost(3)
            sender._settle([b'{"message": "the first batch after the outage"}'], "sent")  # the report is queued
            for n in range(4):
                sender.put(f'{{"message": "after {n}"}}'.encode())
            assert sender.lost == 3  # the report is not a record: dropping it loses none
        assert sender.flush(10)
        sender.close(1)
    told, messages = _warnings_and_messages(bodies)
    assert told == [3] and messages == [f"after {n}" for n in range(4)]


def test_a_report_that_went_out_unanswered_and_is_dropped_later_is_not_told_again() -> None:
    """The server stored the report but its answer came too late: told again in the next report, the
    stream heard of 3 drops twice (reports of 3 and 4 for 4 drops)."""
    bodies: list[bytes] = []
    report_stored = threading.Event()

    def answer(body: bytes) -> int:
        bodies.append(body)
        if b"bunnylogs_lost" in body and not report_stored.is_set():
            report_stored.set()
            time.sleep(1.0)  # stored, and answered after the client gave up waiting
        return 204

    with stream_server(answer) as url:
        sender = BatchSender(url, batch_size=2, capacity=3, timeout=0.5, on_problem=None)
        with sender._lock:
            sender._ensure_thread()
            sender._count_lost(3)
            sender._settle([b'{"message": "the first batch after the outage"}'], "sent")
        assert report_stored.wait(10)
        deadline = time.monotonic() + 10
        while not sender.retries and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sender.retries == 1  # the report waits to be tried again, at the front
        for n in range(4):  # the queue holds 3: the report goes, then "after 0"
            sender.put(f'{{"message": "after {n}"}}'.encode())
        assert sender.flush(15)
        sender.close(1)
    told, messages = _warnings_and_messages(bodies)
    assert messages == ["after 1", "after 2", "after 3"]
    assert sender.lost == 4 and told == [3, 1], told
    assert sender.sent == 1 + 3  # the batch settled by hand and three records: reports are not records


# A server away for a while: closing comes while the sender waits to try again, with nothing out.
_AWAY = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n"


def test_closing_counts_a_queued_report_of_drops_as_none_of_the_programs_records() -> None:
    problems: list[str] = []
    with stream_server(lambda _: _AWAY) as url:
        sender = BatchSender(url, batch_size=2, capacity=10, on_problem=problems.append)
        with sender._lock:
            sender._ensure_thread()
            sender._count_lost(4)
            sender._settle([b'{"message": "the first batch after the outage"}'], "sent")
            sender.put(b'{"message": "left 0"}')
            sender.put(b'{"message": "left 1"}')
        assert not sender.close(timeout=0.3)
    assert problems[-1].startswith("2 log entries were not sent before closing"), problems
    assert problems[-1].endswith("; 4 more were dropped before, because the queue was full"), problems


def test_closing_names_only_the_drops_no_warning_entry_told_the_stream_of() -> None:
    """The close message said every drop since the start, also those a WARNING entry had told of."""
    bodies: list[bytes] = []
    answers = iter([204, *[_AWAY] * 100])
    problems: list[str] = []

    def answer(body: bytes) -> int | bytes:
        bodies.append(body)
        return next(answers)

    with stream_server(answer) as url:
        sender = BatchSender(url, batch_size=2, capacity=4, on_problem=problems.append)
        with sender._lock:
            sender._ensure_thread()
            sender._count_lost(3)
            sender._settle([b'{"message": "the first batch after the outage"}'], "sent")
        assert sender.flush(10)  # the report went (204); the server is away after it
        sender.put(b'{"message": "left"}')
        assert not sender.close(timeout=0.2)
    told, _ = _warnings_and_messages(bodies[:1])
    assert told == [3]
    assert problems[-1].startswith("1 log entry was not sent before closing"), problems
    assert "dropped" not in problems[-1], problems


def test_drops_while_a_slow_server_takes_entries_are_said_too() -> None:
    """A server that answers 204, but slower than entries come: each answer sent the drops on as a WARNING
    entry first, and the queue filling up was never said."""
    problems: list[str] = []

    def slowly(_: bytes) -> int:
        time.sleep(0.2)
        return 204

    with stream_server(slowly) as url:
        sender = BatchSender(url, batch_size=2, capacity=4, on_problem=problems.append)
        for n in range(30):
            sender.put(entries.encode_entry(f"line {n}", level="INFO", program="p", timestamp=1.0, fields=None))
            time.sleep(0.01)
        deadline = time.monotonic() + 10
        while not any("queue is full" in text for text in problems) and time.monotonic() < deadline:
            time.sleep(0.01)
        sender.close(5)
    assert sender.lost and any(text.startswith("the queue is full (4 entries or 64 MiB): ") for text in problems), \
        problems
