"""Reading streams back from a real `bunnylogs serve`: SSE with resume, keep-alive, clean ends."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from dashboard.protocol import RESUMED_FROM_START_NOTICE
from harness.servers import AppProcess, running_app, viewers_fed, wait_for_viewers


@pytest.fixture(scope="module")
def server() -> Iterator[AppProcess]:
    with running_app("--sse-keepalive-seconds", "0.3", "--history", "50") as app:
        yield app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


class EventReader:
    """Reads SSE events (id, data) and comments from a streaming httpx response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.comments: list[str] = []
        self._lines = response.aiter_lines()

    async def next_event(self, timeout: float = 5.0) -> tuple[str, dict]:
        event: dict[str, str] = {}
        async with asyncio.timeout(timeout):
            async for line in self._lines:
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                elif line.startswith("id: "):
                    event["id"] = line[4:]
                elif line.startswith("data: "):
                    event["data"] = line[6:]
                elif line == "" and "data" in event:
                    return event["id"], json.loads(event["data"])
        raise AssertionError("the event stream ended")

    async def events(self, count: int) -> list[tuple[str, dict]]:
        return [await self.next_event() for _ in range(count)]


async def post(http: httpx.AsyncClient, server: AppProcess, stream: str, *messages: str) -> None:
    body = [{"message": message} for message in messages]
    response = await http.post(f"{server.url}/live/{stream}", json=body)
    assert response.status_code == 204


async def test_history_then_live_events_with_ids(http: httpx.AsyncClient, server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post(http, server, stream, "before 1", "before 2")
    async with http.stream("GET", f"{server.url}/live/{stream}", headers={"accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        assert response.headers["cache-control"] == "no-cache"
        reader = EventReader(response)
        history = await reader.events(2)
        await post(http, server, stream, "live 1")
        live = await reader.next_event()
    assert [data["message"] for _, data in [*history, live]] == ["before 1", "before 2", "live 1"]
    assert all(event_id == data["id"] for event_id, data in [*history, live])


async def test_history_parameter_limits_the_backlog(http: httpx.AsyncClient, server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post(http, server, stream, *[f"m{i}" for i in range(10)])
    async with http.stream("GET", f"{server.url}/live/{stream}?history=3") as response:
        reader = EventReader(response)
        assert [data["message"] for _, data in await reader.events(3)] == ["m7", "m8", "m9"]
        await post(http, server, stream, "live")
        assert (await reader.next_event())[1]["message"] == "live"


@pytest.mark.parametrize("how", ["last-event-id", "after"])
async def test_resume_has_no_gap_and_no_duplicate(http: httpx.AsyncClient, server: AppProcess, how: str) -> None:
    stream = str(uuid.uuid4())
    await post(http, server, stream, *[f"m{i}" for i in range(6)])
    async with http.stream("GET", f"{server.url}/live/{stream}") as response:
        first = await EventReader(response).events(4)
    last_id = first[-1][0]
    await post(http, server, stream, "while away 1", "while away 2")
    if how == "last-event-id":
        request = {"headers": {"last-event-id": last_id}, "url": f"{server.url}/live/{stream}"}
    else:
        request = {"headers": {}, "url": f"{server.url}/live/{stream}?after={last_id}"}
    async with http.stream("GET", request["url"], headers=request["headers"]) as response:
        reader = EventReader(response)
        resumed = await reader.events(4)
        await post(http, server, stream, "after resume")
        resumed.append(await reader.next_event())
    messages = [data["message"] for _, data in first + resumed]
    assert messages == ["m0", "m1", "m2", "m3", "m4", "m5", "while away 1", "while away 2", "after resume"]


async def test_a_resume_point_newer_than_the_stream_resumes_from_its_oldest_line_and_says_so(
        http: httpx.AsyncClient, server: AppProcess) -> None:
    """A server restarted on the memory bus with its clock behind hands out IDs below a follower's last one:
    resumed after it, the follower got nothing, ever, without a word."""
    stream = str(uuid.uuid4())
    await post(http, server, stream, "new 1", "new 2")
    ahead = {"last-event-id": "99999999999999-0"}
    async with http.stream("GET", f"{server.url}/live/{stream}", headers=ahead) as response:
        reader = EventReader(response)
        resumed = await reader.events(2)
        await post(http, server, stream, "live")
        resumed.append(await reader.next_event())
    assert [data["message"] for _, data in resumed] == ["new 1", "new 2", "live"]
    assert RESUMED_FROM_START_NOTICE in reader.comments


async def test_an_idle_stream_gets_keep_alive_comments(http: httpx.AsyncClient, server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    async with http.stream("GET", f"{server.url}/live/{stream}") as response:
        reader = EventReader(response)
        await post(http, server, stream, "one")
        await reader.next_event()
        await asyncio.sleep(1.0)  # the server is set to comment after 0.3 s of silence
        await post(http, server, stream, "two")
        await reader.next_event()
    assert "keep-alive" in reader.comments


async def test_a_client_that_leaves_is_unsubscribed(http: httpx.AsyncClient, server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    # An earlier test's event stream is let go at its next write (a keep-alive within 0.3 s): read once
    # it was, the count raced with it.
    before = await wait_for_viewers(server.url, 0, timeout_s=5)
    async with http.stream("GET", f"{server.url}/live/{stream}") as response:
        await post(http, server, stream, "hello")
        await EventReader(response).next_event()
        assert viewers_fed(server.url) == before + 1
    await wait_for_viewers(server.url, before, timeout_s=5)  # the subscription must not outlive its client


async def test_a_client_that_pipelined_a_request_behind_its_stream_and_leaves_is_unsubscribed(
        http: httpx.AsyncClient, server: AppProcess) -> None:
    """Only the newest request learnt that the connection was gone: the stream before it was fed for ever."""
    stream = str(uuid.uuid4())
    before = await wait_for_viewers(server.url, 0, timeout_s=5)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(f"GET /live/{stream} HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n"
                 "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    await writer.drain()
    await post(http, server, stream, "hello")
    async with asyncio.timeout(5):
        assert b"hello" in await reader.readuntil(b"hello")
    assert viewers_fed(server.url) == before + 1
    writer.close()
    await wait_for_viewers(server.url, before, timeout_s=5)


@pytest.mark.parametrize("leaving", ["close", "half-close", "pipelined"])
async def test_clients_that_leave_before_their_stream_begins_are_unsubscribed(
        leaving: str, http: httpx.AsyncClient, server: AppProcess) -> None:
    """Starlette cancels a stream whose client has left before its body begins, so the body's own
    clean-up never ran: each such client kept its subscription and its place for good (a loop of 200
    filled the per-client cap; three filled a stream's)."""
    stream = str(uuid.uuid4())
    before = await wait_for_viewers(server.url, 0, timeout_s=5)
    request = f"GET /live/{stream} HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n"
    if leaving == "pipelined":
        request += "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
    for _ in range(20):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request.encode())
        await writer.drain()
        if leaving == "half-close":
            writer.write_eof()
            await reader.read(1)
        writer.close()
    await wait_for_viewers(server.url, before, timeout_s=5)
    # The stream still serves the next follower.
    async with http.stream("GET", f"{server.url}/live/{stream}") as response:
        await post(http, server, stream, "hello")
        assert (await EventReader(response).next_event())[1]["message"] == "hello"


_UPGRADE = ("GET /_nicegui_ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


@pytest.mark.parametrize("behind", ["upgrade", "upgrade once the stream began", "stalled body"])
async def test_what_is_pipelined_behind_a_stream_never_writes_into_it(behind: str, http: httpx.AsyncClient) -> None:
    """A websocket upgrade behind an event stream took the connection over (101 and websocket frames
    in the middle of the stream, whose follower was then kept for good), and a POST whose body
    stalled behind one had its 408 written into the stream."""
    stream = str(uuid.uuid4())
    with running_app("--body-timeout-seconds", "1") as app:
        before = await wait_for_viewers(app.url, 0, timeout_s=5)
        reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
        second = _UPGRADE if behind.startswith("upgrade") else \
            f"POST /live/{stream} HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nmessage"
        follow = f"GET /live/{stream} HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n"
        async with asyncio.timeout(10):
            if behind == "upgrade once the stream began":
                writer.write(follow.encode())
                received = await reader.readuntil(b": connected\n\n")
                writer.write(second.encode())
            else:
                writer.write(f"{follow}{second}".encode())
                received = await reader.readuntil(b": connected\n\n")
            if behind.startswith("upgrade"):  # the stream goes on, the upgrade unanswered
                await post(http, app, stream, "after the upgrade")
                received += await reader.readuntil(b"after the upgrade")
                writer.close()
            else:  # the body's timeout ends the connection
                received += await reader.read()
                writer.close()
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ") and b"text/event-stream" in head, received[:300]
        assert b"HTTP/1.1" not in body and b"101 Switching" not in received, received[:600]
        await wait_for_viewers(app.url, before, timeout_s=5)
        assert "Exception in ASGI application" not in app.output()


@pytest.mark.parametrize("first", ["HEAD /healthz", "GET /healthz"])
async def test_an_upgrade_sent_with_a_request_leaves_that_request_its_answer(first: str) -> None:
    """Refused while the answer before it had not begun, it cost that answer: the connection closed with
    nothing. That answer comes, and the connection closes after it."""
    with running_app() as app:
        reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
        writer.write(f"{first} HTTP/1.1\r\nHost: a\r\n\r\n".encode() + _UPGRADE.encode())
        async with asyncio.timeout(10):
            received = await reader.read()
        writer.close()
        assert received.startswith(b"HTTP/1.1 200 ") and received.count(b"HTTP/1.1") == 1, received[:300]


async def test_stopping_the_server_ends_open_event_streams_at_once(http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    with running_app() as app:
        async with http.stream("GET", f"{app.url}/live/{stream}") as response:
            reader = EventReader(response)
            await post(http, app, stream, "hello")
            await reader.next_event()
            assert app.process is not None
            app.process.terminate()
            with pytest.raises(AssertionError, match="ended"):
                await reader.next_event(timeout=10)
            await asyncio.to_thread(app.process.wait, 10)
        # Without this, uvicorn waits for the stream until its grace period ends, then cancels it noisily.
        assert "the server is stopping" in " ".join(reader.comments)
        assert "Traceback" not in app.output()


async def test_a_far_future_resume_point_does_not_stop_other_readers_on_redis(
        http: httpx.AsyncClient, redis_url: str) -> None:
    stream = str(uuid.uuid4())
    with running_app("--redis-url", redis_url, "--history", "50") as redis_server:
        await post(http, redis_server, stream, "before")
        future = {"Last-Event-ID": "99999999999999-0"}
        async with http.stream("GET", f"{redis_server.url}/live/{stream}", headers=future) as first, \
                http.stream("GET", f"{redis_server.url}/live/{stream}") as second:
            assert first.status_code == second.status_code == 200
            reader = EventReader(second)
            assert (await reader.next_event())[1]["message"] == "before"
            await post(http, redis_server, stream, "live")
            assert (await reader.next_event())[1]["message"] == "live"
