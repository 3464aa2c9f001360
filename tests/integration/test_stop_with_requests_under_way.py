"""Entries of a request under way when the server is told to stop: on the in-process bus they are refused
with a 503 that says to retry (they were answered 204 after every follower's stream had ended, and went with
the process: seen by nobody, while the sender counted them as sent); on Redis they are stored."""

from __future__ import annotations

import contextlib
import signal
import socket
import time
import uuid
from collections.abc import Iterator

import httpx

from harness.servers import AppProcess, running_app, running_redis

BODY = b"message=sent+as+the+server+stops"


def post_begun(app: AppProcess, stream: str) -> socket.socket:
    """A POST to `stream` whose head and half its body are sent."""
    host, port = app.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=10)
    connection.sendall(f"POST /live/{stream} HTTP/1.1\r\nHost: {host}\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\n"
                       f"Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY[:10])
    return connection


def finished(connection: socket.socket) -> bytes:
    """The rest of the body sent; the whole answer."""
    connection.sendall(BODY[10:])
    answer = b""
    with connection:
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@contextlib.contextmanager
def stopping_with_a_post_under_way(app: AppProcess, stream: str) -> Iterator[socket.socket]:
    connection = post_begun(app, stream)
    time.sleep(0.3)  # the server has read the head
    app.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)  # and has begun to stop
    yield connection
    app.process.wait(timeout=30)


def test_on_the_in_process_bus_entries_sent_as_the_server_stops_are_refused_to_be_sent_again() -> None:
    stream = str(uuid.uuid4())
    with running_app() as app, stopping_with_a_post_under_way(app, stream) as connection:
        answer = finished(connection)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 "), answer
    assert b"retry-after:" in head.lower()
    assert b"none were stored; retry shortly" in body, answer


def test_on_redis_entries_sent_as_the_server_stops_are_stored() -> None:
    stream = str(uuid.uuid4())
    with running_redis() as redis:
        with running_app("--redis-url", redis.url) as app, stopping_with_a_post_under_way(app, stream) as connection:
            answer = finished(connection)
        assert answer.startswith(b"HTTP/1.1 204 "), answer
        with running_app("--redis-url", redis.url) as again:
            page = httpx.get(f"{again.url}/live/{stream}/entries", timeout=10).json()
    assert [entry["message"] for entry in page["entries"]] == ["sent as the server stops"]
