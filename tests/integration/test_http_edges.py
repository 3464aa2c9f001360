"""HTTP at its edges, against a real server: requests that are not HTTP, and clients that send without reading."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.connections import EOF_ANSWER_SECONDS
from dashboard.security_headers import DATA_ANSWER_HEADERS
from harness.servers import AppProcess, running_app, wait_for_viewers

from .test_timeouts import _rss_mib


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with running_app("--history", "0", "--client-requests-per-second", "0", "--stream-entries-per-second", "0",
                     "--stream-bytes-per-second", "0") as app:
        yield app


def _post(stream: str, body: bytes = b"message=x") -> bytes:
    return (b"POST /live/%s HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (stream.encode(), len(body), body))


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("bad_head", [
    b"Content-Length: 9\r\nContent-Length: 10\r\n",
    b"Content-Length: 9\r\nTransfer-Encoding: chunked\r\n",
    b"Content-Length: +9\r\n",
    b"X-Bad: a\x00b\r\nContent-Length: 9\r\n",
])
def test_what_is_not_http_gets_a_json_400_with_the_headers_of_every_answer(server: AppProcess,
                                                                            bad_head: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"POST /live/%s HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"%s\r\nmessage=x" % (str(uuid.uuid4()).encode(), bad_head))
        answer = _read_all(sock)  # and the server closes the connection
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().lower().split("\r\n")
    assert lines[0] == "http/1.1 400 bad request"
    assert "content-type: application/json" in lines and "connection: close" in lines
    for name, value in DATA_ANSWER_HEADERS.items():
        assert f"{name.lower()}: {value.lower()}" in lines
    assert "not valid http/1.1" in json.loads(body)["detail"].lower()


def _error_answer(sock: socket.socket) -> tuple[str, dict[str, str], str]:
    """The status line, headers and JSON detail of the answer on `sock`, which the server then closes."""
    head, _, body = _read_all(sock).partition(b"\r\n\r\n")
    status, *header_lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return status, headers, json.loads(body)["detail"]


def _send_ignoring_a_close(sock: socket.socket, data: bytes) -> None:
    """Send `data`, or as much as the server reads before it answers and closes."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def test_headers_past_64_kib_get_a_json_431_before_the_rest_is_read(server: AppProcess) -> None:
    """httptools joins a header that comes in pieces by copying it for each piece: one request with a
    64 MiB header held the event loop for 1 to 2 s, and the server then answered it 200."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        _send_ignoring_a_close(sock, b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * (8 << 20) + b"\r\n\r\n")
        status, headers, detail = _error_answer(sock)
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert "64 KiB" in detail
    many = b"".join(b"X-H%d: v\r\n" % index for index in range(20_000))  # 200 KB of small headers
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        _send_ignoring_a_close(sock, b"GET /healthz HTTP/1.1\r\nHost: test\r\n" + many + b"\r\n")
        assert _error_answer(sock)[0].startswith("HTTP/1.1 431 ")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:  # one that comes whole, in one read
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
        assert _error_answer(sock)[0].startswith("HTTP/1.1 431 ")
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_chunked_body_whose_trailer_or_framing_passes_64_kib_gets_the_431(server: AppProcess) -> None:
    """Trailers are headers too, joined by copying as they come: a chunked POST with a 64 MiB trailer held the
    event loop for 1.7 s and was answered 204."""
    stream = str(uuid.uuid4())
    start = (b"POST /live/%s HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
             % stream.encode())
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(start + b"5\r\nhello\r\n0\r\nX-Trailer: ")
        _send_ignoring_a_close(sock, b"a" * (8 << 20) + b"\r\n\r\n")
        status, _, detail = _error_answer(sock)
    assert status.startswith("HTTP/1.1 431 ") and "64 KiB" in detail
    with socket.create_connection(("127.0.0.1", server.port)) as sock:  # chunk extensions, the same
        _send_ignoring_a_close(sock, start + b"5;" + b"e" * (1 << 20) + b"\r\nhello\r\n0\r\n\r\n")
        assert _error_answer(sock)[0].startswith("HTTP/1.1 431 ")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:  # tiny chunks earn no credit for a trailer
        sock.sendall(start + b"1\r\nx\r\n" * 100_000 + b"0\r\nX-Trailer: ")
        _send_ignoring_a_close(sock, b"a" * (512 << 10) + b"\r\n\r\n")
        assert _error_answer(sock)[0].startswith("HTTP/1.1 431 ")
    # Small chunks are not framing past the bound: 1 MB in chunks of 50 bytes (120 KB of framing) is taken.
    body = (b"x" * 999 + b"\n") * 1_000
    chunks = b"".join(b"32\r\n" + body[at:at + 50] + b"\r\n" for at in range(0, len(body), 50))
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(start.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1) + chunks + b"0\r\n\r\n")
        assert _read_all(sock).startswith(b"HTTP/1.1 204 ")
    assert httpx.get(f"{server.url}/live/{stream}/entries").json()["kept"] == 1_000


def test_a_body_that_goes_on_after_its_answer_is_dropped_unparsed_and_the_connection_closed(
        server: AppProcess) -> None:
    """uvicorn parses the rest of an answered body only to drop it: 2,000,000 one-byte chunks after a 413 held the
    event loop in pieces of tens of ms. Past 64 KiB it is now dropped unparsed, and the connection closed."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"POST /live/%s HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked"
                     b"\r\n\r\n" % str(uuid.uuid4()).encode())
        _send_ignoring_a_close(sock, b"100000\r\n" + b"x" * 0x100000 + b"\r\n" + b"1\r\nx\r\n" * 200_000)
        _send_ignoring_a_close(sock, b"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        answers = _read_all(sock)  # until the server closes it
    assert answers.startswith(b"HTTP/1.1 413 ") and b"HTTP/1.1 200 " not in answers


def test_a_page_socket_with_a_cookie_of_tens_of_kib_opens(server: AppProcess) -> None:
    """websockets reads the request again with its own bounds (8 KiB a line): the page's socket got no answer
    at all, and the connection was held with no timeout."""
    key = base64.b64encode(os.urandom(16))
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(5)
        sock.sendall(b"GET /_nicegui_ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: test\r\n"
                     b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     b"Sec-WebSocket-Version: 13\r\nCookie: other-app=%s\r\n\r\n" % (key, b"c" * 40_000))
        assert sock.recv(4096).startswith(b"HTTP/1.1 101 ")


_UPGRADE = (b"GET /_nicegui_ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


@pytest.mark.parametrize("first", ["304", "HEAD"])
def test_a_websocket_upgrade_right_after_an_answer_without_a_body_is_taken(server: AppProcess, first: str) -> None:
    """An answer without a body (a 304, a HEAD's) was taken for one still being sent until its last, empty
    part, a moment after its head: an upgrade that came in that moment was refused (22 of 100 tries)."""
    import nicegui

    script = f"/_nicegui/{nicegui.__version__}/static/nicegui.js"
    etag = httpx.get(f"{server.url}{script}").headers["etag"]
    request = (f"GET {script} HTTP/1.1\r\nHost: a\r\nIf-None-Match: {etag}\r\n\r\n" if first == "304"
               else f"HEAD /{uuid.uuid4()} HTTP/1.1\r\nHost: a\r\n\r\n")
    for _ in range(50):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.settimeout(5)
            sock.sendall(request.encode())
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 304 " if first == "304" else b"HTTP/1.1 200 "), head[:100]
            sock.sendall(_UPGRADE)
            assert sock.recv(4096).startswith(b"HTTP/1.1 101 ")


def test_connections_refused_with_an_answer_are_the_first_the_cap_closes() -> None:
    """A refused connection lingers 2 s to let its client read the answer: 25 of them took a cap of 20, and
    every other client got 503 meanwhile."""
    with running_app("--max-connections", "20") as app:
        refused = [socket.create_connection(("127.0.0.1", app.port)) for _ in range(25)]
        try:
            for sock in refused:
                sock.sendall(b"NOT HTTP\r\n\r\n")
            time.sleep(0.3)
            assert httpx.get(f"{app.url}/healthz", headers={"Connection": "close"}).status_code == 200
        finally:
            for sock in refused:
                sock.close()


def test_a_head_under_64_kib_and_a_body_of_any_allowed_size_are_taken(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    headers = {"X-Large": "a" * 60_000}
    assert httpx.get(f"{server.url}/healthz", headers=headers).status_code == 200
    body = "message=" + "b" * 60_000  # the body is not part of the head, however it is read
    assert httpx.post(f"{server.url}/live/{stream}", content=body, headers={
        **headers, "content-type": "application/x-www-form-urlencoded"}).status_code == 204
    with socket.create_connection(("127.0.0.1", server.port)) as sock:  # two pipelined POSTs with large heads
        sock.sendall(_post(stream, b"message=c").replace(b"Host: test", b"Host: test\r\nX-Large: " + b"a" * 60_000) * 2)
        sock.settimeout(5)
        answers = b""
        while answers.count(b"HTTP/1.1 204 ") < 2:
            answers += sock.recv(65536)
    messages = [entry["message"] for entry in httpx.get(f"{server.url}/live/{stream}/entries").json()["entries"]]
    assert messages == ["b" * 60_000, "c", "c"]


def test_an_address_past_64_kib_gets_the_431_not_a_malformed_400(server: AppProcess) -> None:
    """httptools cannot read an address over 65,535 bytes: such a request was answered as malformed HTTP."""
    query = b"&".join(b"k%d=v" % index for index in range(12_000))  # 100 KB, in one send
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        _send_ignoring_a_close(sock, b"GET /?" + query + b" HTTP/1.1\r\nHost: test\r\n\r\n")
        status, headers, detail = _error_answer(sock)
    assert status.startswith("HTTP/1.1 431 ") and headers["content-type"] == "application/json"
    assert "64 KiB" in detail


def test_a_client_that_pipelines_without_reading_is_not_read_ahead(server: AppProcess) -> None:
    # uvicorn resumes reading as each answer is done: a client that never read had the server read,
    # parse and hold every request it sent (30 MB of POSTs: +460 MB).
    stream = str(uuid.uuid4())
    count = 100_000
    payload = _post(stream) * count  # 14.6 MB
    before_rss = _rss_mib(server)
    before = httpx.get(f"{server.url}/healthz").json()["entries_accepted"]
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.setblocking(False)
        sent = _send_until_stalled(sock, payload)
        held_mib = _rss_mib(server) - before_rss
        assert sent < len(payload), "the server read everything a client that never reads sent"
        assert held_mib < 60, f"the server grew by {held_mib:.0f} MiB holding unanswered requests"
        # Once the client reads, everything it sent is answered, in order, and stored.
        answers = _answers_while_sending(sock, payload, sent, count)
    assert answers == count
    accepted = httpx.get(f"{server.url}/healthz").json()["entries_accepted"] - before
    assert accepted == count


def _send_until_stalled(sock: socket.socket, payload: bytes) -> int:
    sent = 0
    last_progress = time.monotonic()
    while sent < len(payload) and time.monotonic() - last_progress < 1.5:
        try:
            sent += sock.send(payload[sent:sent + 65536])
            last_progress = time.monotonic()
        except BlockingIOError:
            select.select([], [sock], [], 0.1)
    return sent


def _answers_while_sending(sock: socket.socket, payload: bytes, sent: int, count: int) -> int:
    """Send the rest of `payload` while reading answers; the number of 204s once `count` came (or 30 s)."""
    received = b""
    answers = 0
    deadline = time.monotonic() + 30
    while answers < count and time.monotonic() < deadline:
        readable, writable, _ = select.select([sock], [sock] if sent < len(payload) else [], [], 0.5)
        if writable:
            with contextlib.suppress(BlockingIOError):
                sent += sock.send(payload[sent:sent + 65536])
        if readable:
            received += sock.recv(1 << 20)
            *complete, received = received.split(b"\r\n\r\n")
            assert all(head.startswith(b"HTTP/1.1 204 ") for head in complete), complete[:1]
            answers += len(complete)
    return answers


_CHUNKED_BADLY = (b"POST /live/%s HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\nzz\r\nmessage=y\r\n0\r\n\r\n")


@pytest.mark.parametrize("first", ["GET /healthz", "POST"])
@pytest.mark.parametrize("refused", ["not HTTP", "a malformed chunked body"])
def test_a_request_pipelined_before_a_refused_one_is_answered_first(server: AppProcess, first: str,
                                                                     refused: str) -> None:
    """The refusal of a request sent in the same write as a valid one before it cost that one its answer:
    the connection closed with nothing (a POST was stored, its client told nothing)."""
    stream = str(uuid.uuid4())
    valid = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n" if first == "GET /healthz" else _post(stream, b"message=ok")
    bad = b"NOT HTTP\r\n\r\n" if refused == "not HTTP" else _CHUNKED_BADLY % stream.encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(valid + bad)
        received = _read_all(sock)  # and the server closes the connection
    answers = received.split(b"HTTP/1.1 ")[1:]
    assert len(answers) == 2, received[:600]
    assert answers[0].startswith(b"200 OK" if first == "GET /healthz" else b"204 No Content"), received[:600]
    assert answers[1].startswith(b"400 Bad Request") and b"connection: close" in answers[1].lower(), received[:600]
    assert "not valid HTTP/1.1" in json.loads(answers[1].partition(b"\r\n\r\n")[2])["detail"]
    if first == "POST":
        messages = [entry["message"] for entry in httpx.get(f"{server.url}/live/{stream}/entries").json()["entries"]]
        assert messages == ["ok"]  # and not the refused one's


@pytest.mark.parametrize("refused", ["not HTTP", "a malformed chunked body"])
async def test_what_is_refused_behind_an_event_stream_waits_for_its_end(refused: str) -> None:
    """Malformed bytes pipelined behind an event stream cut the stream at once; then (first fixes) a
    malformed body behind one cut it when the body's timeout came, junk sent behind it was read and
    dropped as fast as it came for as long as the stream lasted (27.8 GB in 10 s), and then, with
    reading paused, a client that left was not seen for 30 s."""
    stream = str(uuid.uuid4())
    bad = b"NOT HTTP\r\n\r\n" if refused == "not HTTP" else _CHUNKED_BADLY % stream.encode()
    follow = b"GET /live/%s HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n" % stream.encode()
    with running_app("--body-timeout-seconds", "1", "--header-timeout-seconds", "1") as app:
        before = await wait_for_viewers(app.url, 0, timeout_s=5)
        with socket.create_connection(("127.0.0.1", app.port)) as sock:
            sock.sendall(follow + bad)
            sock.settimeout(5)
            received = b""
            while b": connected" not in received:
                received += sock.recv(65536)
            time.sleep(2.5)  # past both timeouts
            httpx.post(f"{app.url}/live/{stream}", data={"message": "still here"})
            while b"still here" not in received:
                chunk = sock.recv(65536)
                assert chunk, f"the stream ended: {received[-300:]!r}"
                received += chunk
            assert received.count(b"HTTP/1.1 ") == 1, received[:600]
        await wait_for_viewers(app.url, before, timeout_s=2)  # the client that left, seen at once
        with socket.create_connection(("127.0.0.1", app.port)) as sock:
            sock.sendall(follow + bad)
            sock.settimeout(5)
            while b": connected" not in sock.recv(65536):
                pass
            _send_ignoring_a_close(sock, b"\x01" * 1_000_000)  # junk past 64 KiB: the connection closes
            with contextlib.suppress(ConnectionResetError):
                while sock.recv(65536):
                    pass
        await wait_for_viewers(app.url, before, timeout_s=2)
        assert "Traceback" not in app.output()


_VALID = {"GET": b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n",
          "HEAD": b"HEAD /healthz HTTP/1.1\r\nHost: test\r\n\r\n",
          "POST": _post("00000000-0000-4000-8000-00000000f022", b"message=fuzz")}
_STATUS = {"GET": b"200 ", "HEAD": b"200 ", "POST": b"204 "}


@settings(max_examples=40, deadline=None)
@given(valid=st.lists(st.sampled_from(sorted(_VALID)), max_size=3), junk=st.binary(max_size=300),
       cuts=st.lists(st.integers(min_value=1, max_value=2_000), max_size=4))
def test_requests_pipelined_before_junk_each_get_their_answer_then_one_400(
        server: AppProcess, valid: list[str], junk: bytes, cuts: list[int]) -> None:
    """Valid requests, then bytes no request starts with, sent in one or several writes: each valid one
    is answered, in order, then comes one 400, and the connection closes."""
    data = b"".join(_VALID[name] for name in valid) + b"\x01" + junk  # no method starts with a control byte
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        start = 0
        for cut in sorted({min(cut, len(data)) for cut in cuts} | {len(data)}):
            _send_ignoring_a_close(sock, data[start:cut])
            start = cut
        received = _read_all(sock)  # and the server closes the connection within its read timeout
    statuses = [answer[:4] for answer in received.split(b"HTTP/1.1 ")[1:]]
    assert statuses == [_STATUS[name] for name in valid] + [b"400 "], received[:800]


@pytest.mark.parametrize("requests", ["page", "stream page", "not found", "two pipelined", "POST", "page then junk"])
def test_a_client_that_half_closes_after_its_requests_gets_their_answers(server: AppProcess, requests: str) -> None:
    """`nc -N` and some health checks shut their side once the request is sent: a page or a 404 was then
    never answered (the connection closed at the end of what the client sent)."""
    stream = str(uuid.uuid4())
    sent = {"page": [b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"],
            "stream page": [b"GET /%s HTTP/1.1\r\nHost: test\r\n\r\n" % stream.encode()],
            "not found": [b"GET /no/such/page HTTP/1.1\r\nHost: test\r\n\r\n"],
            "two pipelined": [b"GET / HTTP/1.1\r\nHost: test\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"],
            "POST": [_post(stream, b"message=half")],
            "page then junk": [b"GET / HTTP/1.1\r\nHost: test\r\n\r\n", b"\x01junk\r\n\r\n"]}[requests]
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"".join(sent))
        sock.shutdown(socket.SHUT_WR)
        started = time.monotonic()
        received = _read_all(sock)
        took = time.monotonic() - started
    statuses = [answer[:4] for answer in received.split(b"HTTP/1.1 ")[1:]]
    expected = {"not found": [b"404 "], "POST": [b"204 "], "two pipelined": [b"200 "] * 2,
                "page then junk": [b"200 ", b"400 "]}.get(requests, [b"200 "])
    assert statuses == expected, received[:600]
    assert took < 3, f"closed {took:.1f} s after the answers"


_FORM_POST = b"POST /live/%s HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
_CUT_POSTS = {"nothing": b"",
              "a POST cut in its chunked body": _FORM_POST + b"Transfer-Encoding: chunked\r\n\r\n5\r\nmessa",
              "a POST cut in its body": _FORM_POST + b"Content-Length: 50\r\n\r\nmessage=x"}


@pytest.mark.parametrize("behind", sorted(_CUT_POSTS))
def test_a_client_that_half_closes_while_its_answer_is_written_gets_all_of_it(server: AppProcess, behind: str) -> None:
    """A half-close that came once a large file's answer had begun closed the connection after its head:
    18 of 20 such requests got the head and part of the body. With a POST cut short in its body behind
    it, the answer was lost whole, and the server logged an error."""
    page = httpx.get(f"{server.url}/").text
    script = max(re.findall(r'src="(/_nicegui/[^"]+\.js)"', page), key=lambda path: "quasar" in path)
    errors = server.output().count("Exception in ASGI application")
    for wait_s in (0.0, 0.0005, 0.001, 0.002, 0.004):
        for _ in range(4):
            with socket.create_connection(("127.0.0.1", server.port)) as sock:
                sock.sendall(b"GET %s HTTP/1.1\r\nHost: test\r\nAccept-Encoding: identity\r\n\r\n" % script.encode()
                             + _CUT_POSTS[behind].replace(b"%s", str(uuid.uuid4()).encode()))
                time.sleep(wait_s)
                sock.shutdown(socket.SHUT_WR)
                started = time.monotonic()
                received = _read_all(sock)
                took = time.monotonic() - started
            head, _, body = received.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head)
            assert head.startswith(b"HTTP/1.1 200 ") and length is not None, (wait_s, head[:300])
            assert len(body) == int(length.group(1)), (wait_s, len(body), int(length.group(1)))
            assert took < 3, f"closed {took:.1f} s after the half-close"
    assert server.output().count("Exception in ASGI application") == errors, server.output()[-3000:]


@pytest.mark.parametrize("when", ["before it begins", "once it began"])
async def test_a_follower_that_half_closes_is_let_go(when: str) -> None:
    """A half-closed connection is kept for the answers it is owed, also one under way: not for an event
    stream's, which never ends (let go at once once it began; before, within the time answers are waited for)."""
    with running_app("--history", "0") as app:
        before = await wait_for_viewers(app.url, 0, timeout_s=5)
        with socket.create_connection(("127.0.0.1", app.port)) as sock:
            sock.sendall(b"GET /live/%s HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n"
                         % str(uuid.uuid4()).encode())
            sock.settimeout(EOF_ANSWER_SECONDS + 3)
            if when == "once it began":
                while b": connected" not in sock.recv(65536):
                    pass
            sock.shutdown(socket.SHUT_WR)
            let_go_within = EOF_ANSWER_SECONDS / 2 if when == "once it began" else EOF_ANSWER_SECONDS + 3
            await wait_for_viewers(app.url, before, timeout_s=let_go_within)
            while sock.recv(65536):  # what it was sent, then the close
                pass


def test_a_head_past_64_kib_in_the_same_read_as_a_request_before_it_gets_the_431(server: AppProcess) -> None:
    """The bytes of a head that came in one read after another request were not counted: 70 KB of headers
    were taken (200, then 200)."""
    big = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n" + big)
        received = _read_all(sock)
    statuses = [answer[:4] for answer in received.split(b"HTTP/1.1 ")[1:]]
    assert statuses == [b"200 ", b"431 "], received[:600]


async def test_a_client_that_leaves_a_stream_with_a_request_and_junk_queued_behind_it_is_seen_at_once() -> None:
    """uvicorn stops reading while a request waits behind an answer under way: with junk refused behind
    them, a client that closed was seen 29 s later (when a write failed), one that half-closed never."""
    stream = str(uuid.uuid4())
    with running_app() as app:
        before = await wait_for_viewers(app.url, 0, timeout_s=5)
        for ending in ("close", "half-close"):
            with socket.create_connection(("127.0.0.1", app.port)) as sock:
                sock.sendall(b"GET /live/%s HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n"
                             % stream.encode())
                sock.settimeout(5)
                while b": connected" not in sock.recv(65536):
                    pass
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n\x01junk\r\n\r\n")
                time.sleep(0.3)
                if ending == "half-close":
                    sock.shutdown(socket.SHUT_WR)
                    await wait_for_viewers(app.url, before, timeout_s=2)
            await wait_for_viewers(app.url, before, timeout_s=2)
