"""Clients that hold connections without finishing a request: a real server cuts them, and keeps serving.

The servers here run with timeouts of a second or two (flags), so that each story takes seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest

from bench.socket_viewers import open_socket_viewer
from harness.servers import AppProcess, running, running_app

HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 2.0
IDLE_TIMEOUT_S = 1.0
# How much later than its timeout a cut may come on a loaded machine.
SLACK_S = 4.0
MIB = 1024 * 1024
TEXT = {"content-type": "text/plain"}


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with running_app("--header-timeout-seconds", str(HEADER_TIMEOUT_S), "--body-timeout-seconds",
                     str(BODY_TIMEOUT_S), "--idle-timeout-seconds", str(IDLE_TIMEOUT_S)) as app:
        yield app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # A new connection per request: this server closes idle ones after a second, and a request sent
    # on a connection just as the server closes it fails (the race every HTTP keep-alive has).
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        yield client


async def _connect(app: AppProcess, first_bytes: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    writer.write(first_bytes)
    await writer.drain()
    return reader, writer


async def _response(reader: asyncio.StreamReader) -> bytes:
    """One whole response with a Content-Length, leaving the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return head + await reader.readexactly(length)


async def _answer_and_close(reader: asyncio.StreamReader, within_s: float) -> bytes:
    """Everything the server sends until it closes the connection (fails the test if it does not)."""
    try:
        return await asyncio.wait_for(reader.read(), timeout=within_s)
    except TimeoutError:
        pytest.fail(f"the server still holds the connection after {within_s:.0f} s")


def _status_and_detail(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)["detail"]


async def _stored(http: httpx.AsyncClient, app: AppProcess, stream: str) -> list[str]:
    response = await http.get(f"{app.url}/live/{stream}/entries")
    return [entry["message"] for entry in response.json()["entries"]]


async def test_partial_headers_are_cut_after_the_header_timeout_while_others_are_served(
        server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    started = time.monotonic()
    slow, slow_writer = await _connect(server, f"POST /live/{stream} HTTP/1.1\r\nHost: a\r\nContent-Ty".encode())
    # Meanwhile, and on the same server, everyone else is served.
    assert (await http.get(f"{server.url}/healthz")).status_code == 200
    assert (await http.post(f"{server.url}/live/{stream}", content="served meanwhile", headers=TEXT)).status_code == 204

    answer = await _answer_and_close(slow, HEADER_TIMEOUT_S + SLACK_S)
    held_s = time.monotonic() - started
    slow_writer.close()
    assert held_s >= HEADER_TIMEOUT_S * 0.9
    status, detail = _status_and_detail(answer)
    assert status == 408 and "headers" in detail
    assert await _stored(http, server, stream) == ["served meanwhile"]


async def test_a_connection_that_sends_nothing_is_cut_too(server: AppProcess) -> None:
    silent, writer = await _connect(server, b"")
    await _answer_and_close(silent, HEADER_TIMEOUT_S + SLACK_S)
    writer.close()


async def test_a_kept_alive_connection_is_closed_when_idle_and_cut_when_its_next_headers_stall(
        server: AppProcess) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
    idle, writer = await _connect(server, request)
    assert (await _response(idle)).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    assert await _answer_and_close(idle, IDLE_TIMEOUT_S + SLACK_S) == b""
    assert time.monotonic() - started >= IDLE_TIMEOUT_S * 0.9
    writer.close()

    stalled, writer = await _connect(server, request)
    assert (await _response(stalled)).startswith(b"HTTP/1.1 200")
    writer.write(request[:20])  # the start of a next request, which stalls
    status, detail = _status_and_detail(await _answer_and_close(stalled, HEADER_TIMEOUT_S + SLACK_S))
    assert status == 408 and "headers" in detail
    writer.close()


async def test_a_body_shorter_than_its_content_length_gets_408_and_nothing_is_stored(
        server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    started = time.monotonic()
    short, writer = await _connect(server, f"POST /live/{stream} HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
                                           f"Content-Length: 100\r\n\r\nhalf of a body\n".encode())
    answer = await _answer_and_close(short, BODY_TIMEOUT_S + SLACK_S)
    writer.close()
    assert time.monotonic() - started >= BODY_TIMEOUT_S * 0.9
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert b"access-control-allow-origin: *" in head and b"content-type: application/json" in head
    assert b"x-content-type-options: nosniff" in head and b"content-security-policy: default-src 'none'" in head
    status, detail = _status_and_detail(answer)
    assert status == 408 and "body" in detail
    assert await _stored(http, server, stream) == []


def _rss_mib(app: AppProcess) -> float:
    assert app.process is not None
    for line in Path(f"/proc/{app.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/<pid>/status")


async def _stall_uploads(server: AppProcess, stream: str, uploads: int) -> float:
    """Start `uploads` POSTs of 1 MiB bodies one byte short, wait until each is answered 408; the RSS peak in MiB."""
    head = f"POST /live/{stream} HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: {MIB}\r\n\r\n"
    almost = head.encode() + b"x" * (MIB - 1)
    before_mib = _rss_mib(server)
    stalled = await asyncio.gather(*[_connect(server, almost) for _ in range(uploads)])
    deadline = time.monotonic() + BODY_TIMEOUT_S * 0.8
    peak_mib = before_mib
    while time.monotonic() < deadline and peak_mib - before_mib < uploads * 0.9:
        peak_mib = max(peak_mib, _rss_mib(server))
        await asyncio.sleep(0.02)
    answers = await asyncio.gather(*[_answer_and_close(reader, BODY_TIMEOUT_S + SLACK_S) for reader, _ in stalled])
    for _, writer in stalled:
        writer.close()
    assert {_status_and_detail(answer)[0] for answer in answers} == {408}
    return peak_mib


async def test_uploads_stalled_one_byte_short_of_1_mib_are_let_go(server: AppProcess,
                                                                  http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    uploads = 150
    before_mib = _rss_mib(server)
    # While they stall, the server holds their bodies...
    first_peak_mib = await _stall_uploads(server, stream, uploads)
    assert first_peak_mib - before_mib > uploads / 2, f"the server did not read the bodies: RSS {before_mib:.0f} " \
                                                      f"MiB before, {first_peak_mib:.0f} MiB while they stalled"
    assert await _stored(http, server, stream) == []
    # ...until the body timeout answers each one and lets its body go: as many stalled again fit in
    # the memory the first ones used. (Whether freed memory goes back to the system at once is the
    # allocator's choice: a fragmented heap keeps it, to be used again.)
    second_peak_mib = await _stall_uploads(server, stream, uploads)
    assert second_peak_mib - first_peak_mib < (first_peak_mib - before_mib) / 2, (
        f"RSS {before_mib:.0f} MiB before, {first_peak_mib:.0f} MiB while the first uploads stalled, "
        f"{second_peak_mib:.0f} MiB while as many again stalled after them")
    assert await _stored(http, server, stream) == []


async def test_an_event_stream_and_a_page_socket_outlive_every_timeout(server: AppProcess,
                                                                        http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    quiet_s = max(HEADER_TIMEOUT_S, BODY_TIMEOUT_S, IDLE_TIMEOUT_S) + 1.5
    async with aiohttp.ClientSession() as session:
        viewer = await open_socket_viewer(session, server.url, stream)
        try:
            async with http.stream("GET", f"{server.url}/live/{stream}",
                                   headers={"accept": "text/event-stream"}) as events:
                assert events.status_code == 200
                await asyncio.sleep(quiet_s)  # longer than any timeout, with nothing sent either way
                posted = await http.post(f"{server.url}/live/{stream}", content="still here", headers=TEXT)
                assert posted.status_code == 204
                lines = events.aiter_lines()
                async with asyncio.timeout(5):
                    while "still here" not in await anext(lines):
                        pass
            async with asyncio.timeout(5):
                while viewer.rows < 1:
                    await asyncio.sleep(0.02)
            assert viewer.client.connected
        finally:
            await viewer.close()


async def test_at_the_cap_with_every_connection_busy_a_new_one_gets_503_with_retry_after(
        http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    with running_app("--max-connections", "3") as app:
        async with contextlib.AsyncExitStack() as streams:
            for _ in range(3):  # event streams: busy connections, which the cap does not close
                follower = await streams.enter_async_context(httpx.AsyncClient(timeout=10))
                events = await streams.enter_async_context(
                    follower.stream("GET", f"{app.url}/live/{stream}", headers={"accept": "text/event-stream"}))
                assert events.status_code == 200
            refused = await http.get(f"{app.url}/healthz")
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert "connections" in refused.json()["detail"]
        assert (await http.get(f"{app.url}/healthz")).status_code == 200


# --- many slow clients against a process with few file descriptors ---

FD_LIMIT = 256
SLOW_CLIENTS = 1_100


class _FewDescriptorsApp(AppProcess):
    """A server whose process may open only `FD_LIMIT` files (soft and hard), as `ulimit -n` would set."""

    def command(self) -> list[str]:
        return ["prlimit", f"--nofile={FD_LIMIT}:{FD_LIMIT}", "--", *super().command()]


async def test_more_slow_clients_than_file_descriptors_do_not_stop_a_post(http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    # The header timeout is left at its default, far longer than this test: the cap alone must do it.
    with running(_FewDescriptorsApp()) as app:
        slow = []
        for _ in range(SLOW_CLIENTS):
            slow.append(await _connect(app, f"GET /live/{stream} HTTP/1.1\r\nHost: a\r\n".encode()))
        try:
            response = await http.post(f"{app.url}/live/{stream}", content="served", headers=TEXT, timeout=5)
            assert response.status_code == 204
            assert await _stored(http, app, stream) == ["served"]
        finally:
            for _, writer in slow:
                writer.close()


def test_a_server_raises_its_open_file_limit_to_the_hard_limit() -> None:
    raised = subprocess.run(["prlimit", "--nofile=256:512", "--", sys.executable, "-c",
                             "from dashboard.connections import raise_fd_limit; print(raise_fd_limit())"],
                            capture_output=True, text=True, check=True)
    assert raised.stdout.strip() == "512"


# --- a follower that stopped reading ----------------------------------------------------------------

SEND_TIMEOUT_S = 1.0
NO_LIMITS = ("--stream-bytes-per-second", "0", "--stream-entries-per-second", "0", "--client-requests-per-second", "0")


def _server_side_connections(server_port: int, client_ports: set[int]) -> int:
    """How many of the server's TCP connections to `client_ports` are still open (from /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, state = line.split()[1:4]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) in client_ports \
                and state != "06":  # not TIME_WAIT
            count += 1
    return count


async def test_a_follower_that_stopped_reading_is_cut_off_and_its_connection_dropped(http: httpx.AsyncClient) -> None:
    """Cut off, such a follower kept its connection: uvicorn's close waited to write its unsent events."""
    stream = str(uuid.uuid4())
    with running_app("--send-timeout-seconds", str(SEND_TIMEOUT_S), *NO_LIMITS) as app:
        followers = []
        for _ in range(4):
            follower = socket.socket()
            follower.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            follower.connect(("127.0.0.1", app.port))
            follower.sendall(f"GET /live/{stream} HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n".encode())
            followers.append(follower)
        ports = {follower.getsockname()[1] for follower in followers}
        try:
            await asyncio.sleep(0.5)
            for _ in range(16):  # 16 MiB of events: more than the connections and the server can hold unsent
                batch = [{"message": "x" * 60_000} for _ in range(16)]
                assert (await http.post(f"{app.url}/live/{stream}", json=batch)).status_code == 204
            assert _server_side_connections(app.port, ports) == 4
            await _let_go(app, ports, "the server still holds the stalled followers")
            assert "without completing response" not in app.output()
            # A follower that reads is served as before.
            async with http.stream("GET", f"{app.url}/live/{stream}", params={"history": 1},
                                   headers={"accept": "text/event-stream"}) as events:
                assert events.status_code == 200
                received = b""
                async with asyncio.timeout(10):
                    async for chunk in events.aiter_bytes():
                        received += chunk
                        if b"data: " in received:
                            break
                assert b'"message":"xxx' in received
        finally:
            for follower in followers:
                follower.close()


@pytest.mark.parametrize("behind", ["GET /healthz", "GET /live/{stream}/entries?limit=1"])
async def test_a_follower_that_pipelines_a_request_and_stops_reading_is_cut_off(
        behind: str, http: httpx.AsyncClient) -> None:
    """The stall check followed the connection's newest request: a follower that sent a second one behind
    its event stream escaped it, and uvicorn kept the connection with megabytes unsent."""
    stream = str(uuid.uuid4())
    with running_app("--send-timeout-seconds", str(SEND_TIMEOUT_S), *NO_LIMITS) as app:
        follower = _follow(app.port, stream)
        follower.sendall(f"{behind.format(stream=stream)} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        ports = {follower.getsockname()[1]}
        try:
            await asyncio.sleep(0.5)
            await _post_mib(http, app, stream, 16)
            assert _server_side_connections(app.port, ports) == 1
            await _let_go(app, ports, "the server still holds the stalled follower")
            assert "without completing response" not in app.output()
        finally:
            follower.close()


async def _let_go(app: AppProcess, ports: set[int], failure: str) -> None:
    """Wait until the server holds no connection to `ports` (a stalled reader's cut-off), or fail."""
    deadline = time.monotonic() + SEND_TIMEOUT_S + SLACK_S + 2
    while _server_side_connections(app.port, ports) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert _server_side_connections(app.port, ports) == 0, failure


def _follow(port: int, stream: str) -> socket.socket:
    """An event-stream request on a socket with a small receive buffer, not read yet."""
    follower = socket.socket()
    follower.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    follower.connect(("127.0.0.1", port))
    follower.sendall(f"GET /live/{stream} HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n".encode())
    return follower


async def _post_mib(http: httpx.AsyncClient, app: AppProcess, stream: str, mib: int) -> None:
    for _ in range(mib):
        batch = [{"message": "x" * 65_000} for _ in range(16)]
        assert (await http.post(f"{app.url}/live/{stream}", json=batch)).status_code == 204


async def test_a_follower_that_reads_slowly_is_not_cut_off(http: httpx.AsyncClient) -> None:
    """A send waits for the system's buffers to drain a megabyte: a reader slower than that per timeout
    was taken for one that reads nothing, and cut off."""
    stream = str(uuid.uuid4())
    with running_app("--send-timeout-seconds", str(SEND_TIMEOUT_S), *NO_LIMITS) as app:
        follower = _follow(app.port, stream)
        follower.setblocking(False)
        ports = {follower.getsockname()[1]}
        try:
            await asyncio.sleep(0.3)
            # Read while the lines are posted: on a busy machine, posting 4 MiB took longer than the timeout,
            # and a reader that had not begun to read yet was rightly cut off.
            posting = asyncio.create_task(_post_mib(http, app, stream, 4))
            taken = 0
            for _ in range(60):  # 6 s at about 100 KB/s: a send waits several times the timeout
                await asyncio.sleep(0.1)
                with contextlib.suppress(BlockingIOError):
                    for _ in range(4):
                        chunk = follower.recv(4096)
                        assert chunk, "the server ended the stream"
                        taken += len(chunk)
            await posting
            assert taken > 200_000
            assert _server_side_connections(app.port, ports) == 1, "a reader that reads was cut off"
            # Once it stops reading, it is cut off.
            await _let_go(app, ports, "the stalled reader is still held")
        finally:
            follower.close()


@pytest.mark.parametrize("ending", ["open", "half-closed"])
async def test_a_client_that_takes_nothing_of_its_answers_is_cut_off(ending: str) -> None:
    """Twenty pipelined requests for a 500 KB script, never read: the connection and the megabytes not sent
    were held for as long as the server ran (also once the client half-closed, its answers owed)."""
    with running_app("--send-timeout-seconds", str(SEND_TIMEOUT_S), *NO_LIMITS) as app:
        page = httpx.get(f"{app.url}/").text
        script = max(re.findall(r'src="(/_nicegui/[^"]+\.js)"', page), key=lambda path: "quasar" in path)
        request = f"GET {script} HTTP/1.1\r\nHost: a\r\nAccept-Encoding: identity\r\n\r\n".encode()
        taker = socket.socket()
        taker.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        taker.connect(("127.0.0.1", app.port))
        taker.sendall(request * 20)
        if ending == "half-closed":
            taker.shutdown(socket.SHUT_WR)
        ports = {taker.getsockname()[1]}
        try:
            # Held while its answers wait (not yet the timeout: after it, on a busy machine, it was let go).
            await asyncio.sleep(SEND_TIMEOUT_S / 4)
            assert _server_side_connections(app.port, ports) == 1
            await _let_go(app, ports, "the server still holds the client that takes nothing")
        finally:
            taker.close()


async def test_a_client_that_reads_its_answers_slowly_gets_them_whole() -> None:
    """Not cut off while it takes something, however slowly it does."""
    with running_app("--send-timeout-seconds", str(SEND_TIMEOUT_S), *NO_LIMITS) as app:
        page = httpx.get(f"{app.url}/").text
        script = max(re.findall(r'src="(/_nicegui/[^"]+\.js)"', page), key=lambda path: "quasar" in path)
        size = len(httpx.get(f"{app.url}{script}", headers={"accept-encoding": "identity"}).content)
        request = f"GET {script} HTTP/1.1\r\nHost: a\r\nAccept-Encoding: identity\r\n\r\n".encode()
        with socket.socket() as reader:
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            reader.connect(("127.0.0.1", app.port))
            reader.sendall(request * 4 + b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            reader.setblocking(False)
            received = bytearray()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # about 400 KB/s: 2 MB in ~5 s, several times the timeout
                await asyncio.sleep(0.1)
                try:
                    for _ in range(10):
                        chunk = reader.recv(4096)
                        if not chunk:
                            break
                        received += chunk
                    else:
                        continue
                except BlockingIOError:
                    continue
                break  # the server closed it, after the last answer
        assert received.count(b"HTTP/1.1 200 ") == 5, received[-300:]
        assert len(received) > 4 * size


async def test_a_follower_that_stopped_reading_a_stream_gone_quiet_is_cut_off(http: httpx.AsyncClient) -> None:
    """Every send went into the buffers, then the stream went quiet: only a send that waited was timed,
    so the reader and megabytes for it were held for as long as the server ran."""
    stream = str(uuid.uuid4())
    with running_app("--send-timeout-seconds", str(SEND_TIMEOUT_S), "--sse-keepalive-seconds", "0.5",
                     *NO_LIMITS) as app:
        follower = _follow(app.port, stream)
        ports = {follower.getsockname()[1]}
        try:
            await asyncio.sleep(0.3)
            await _post_mib(http, app, stream, 1)  # taken by the buffers: no send waits
            await asyncio.sleep(0.5)
            assert _server_side_connections(app.port, ports) == 1
            await _let_go(app, ports, "the server still holds the stalled follower")
        finally:
            follower.close()


async def test_a_client_that_reads_a_big_answer_slowly_gets_all_of_it(server: AppProcess,
                                                                       http: httpx.AsyncClient) -> None:
    """The idle timeout comes while it still reads: it is closed after the answer, not reset."""
    stream = str(uuid.uuid4())
    await _post_mib(http, server, stream, 1)
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect(("127.0.0.1", server.port))
    reader.setblocking(False)
    try:
        reader.sendall(f"GET /live/{stream}/entries?limit=100 HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        received = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # about 150 KB/s: several idle timeouts long
            await asyncio.sleep(0.1)
            with contextlib.suppress(BlockingIOError):
                for _ in range(4):
                    chunk = reader.recv(4096)
                    if not chunk:
                        break
                    received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            length = re.search(rb"content-length: (\d+)", head.lower())
            if length and len(body) >= int(length.group(1)):
                break
        assert length is not None and len(body) == int(length.group(1))
        assert len(json.loads(body)["entries"]) == 16
    finally:
        reader.close()
