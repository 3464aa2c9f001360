"""POSTs to a real `bunnylogs serve` (uvicorn) arrive on the bus, read back through Redis."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from dashboard.bus.redis_streams import RedisBus
from dashboard.pages.snippets import curl_snippet, python_snippet
from dashboard.protocol import bus_stream_id
from harness.servers import AppProcess, running_app

from ..support import Collector


@pytest.fixture(scope="module")
def ingest_server(redis_url: str) -> Iterator[AppProcess]:
    with running_app("--role", "ingest", "--redis-url", redis_url) as app:
        yield app


@pytest.fixture
async def reader(redis_url: str) -> AsyncIterator[RedisBus]:
    bus = RedisBus(redis_url, max_length=10_000, retention_seconds=600)
    await bus.start()
    yield bus
    await bus.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def follow(bus: RedisBus) -> tuple[str, Collector]:
    stream = str(uuid.uuid4())
    collector = Collector()
    await bus.subscribe(bus_stream_id(stream), collector, history=0)
    return stream, collector


async def test_every_content_type_arrives(ingest_server: AppProcess, reader: RedisBus,
                                          http: httpx.AsyncClient) -> None:
    stream, collector = await follow(reader)
    url = f"{ingest_server.url}/live/{stream}"
    posts = [
        http.post(url, data={"message": "form", "level": "warn", "program": "p1"}),
        http.post(url, files={"message": (None, "multipart"), "level": (None, "error")}),
        http.post(url, json={"message": "json", "fields": {"n": 1}}),
        http.post(url, content='{"message": "nd1"}\n{"message": "nd2"}\n',
                  headers={"content-type": "application/x-ndjson"}),
        http.post(url, params={"level": "debug", "program": "tail"}, content="text1\ntext2\n",
                  headers={"content-type": "text/plain; charset=utf-8"}),
    ]
    for post in posts:  # one after another, so the order on the stream is known
        assert (await post).status_code == 204
    await collector.wait_for(7)
    got = [(e.entry.message, e.entry.level, e.entry.program, e.entry.fields()) for e in collector.entries]
    assert got == [
        ("form", "WARNING", "p1", None), ("multipart", "ERROR", "api", None), ("json", "INFO", "api", {"n": 1}),
        ("nd1", "INFO", "api", None), ("nd2", "INFO", "api", None),
        ("text1", "DEBUG", "tail", None), ("text2", "DEBUG", "tail", None),
    ]


async def test_compressed_bodies_and_declared_charsets_arrive(ingest_server: AppProcess, reader: RedisBus,
                                                             http: httpx.AsyncClient) -> None:
    """`Content-Encoding: gzip` (as log shippers send batches) is inflated, and a charset is how the body is
    read: gzip JSON was refused as invalid UTF-8, and latin-1 text stored with U+FFFD in place of `é`."""
    stream, collector = await follow(reader)
    url = f"{ingest_server.url}/live/{stream}"
    posts = [
        http.post(url, content=gzip.compress(json.dumps([{"message": "gz1"}, {"message": "gz2"}]).encode()),
                  headers={"content-type": "application/json", "content-encoding": "gzip"}),
        http.post(url, content=zlib.compress(b"deflated"), headers={"content-type": "text/plain",
                                                                    "content-encoding": "deflate"}),
        http.post(url, content="café".encode("latin-1"), headers={"content-type": "text/plain; charset=latin-1"}),
    ]
    for post in posts:
        response = await post
        assert response.status_code == 204, response.text
    await collector.wait_for(4)
    assert [e.entry.message for e in collector.entries] == ["gz1", "gz2", "deflated", "café"]
    refusals = [
        (http.post(url, content=b"x", headers={"content-type": "text/plain", "content-encoding": "br"}), 415),
        (http.post(url, content=b"x", headers={"content-type": "text/plain", "content-encoding": "gzip"}), 400),
        (http.post(url, content=gzip.compress(b"\n" * (4 * 1024 * 1024)),  # 4 KiB that would be 4 MiB
                   headers={"content-type": "text/plain", "content-encoding": "gzip"}), 413),
        (http.post(url, content=b"x", headers={"content-type": "text/plain; charset=made-up"}), 415),
    ]
    for post, status in refusals:
        response = await post
        assert response.status_code == status and response.json()["detail"], response.text


async def test_oversized_bodies_get_413_from_the_real_server(ingest_server: AppProcess,
                                                             http: httpx.AsyncClient) -> None:
    url = f"{ingest_server.url}/live/{uuid.uuid4()}"
    big = b"x" * (1024 * 1024 + 1)
    # A new connection for each: the server closes one whose body it did not read, and its 413 does not say
    # so (`Connection: close`); a client that reused it at once could find it gone (CI, once).
    response = await http.post(url, content=big, headers={"content-type": "text/plain", "connection": "close"})
    assert response.status_code == 413 and response.json()["detail"].startswith("the body is larger")

    async def chunked():
        for _ in range(20):
            yield b"y" * 65536 + b"\n"

    response = await http.post(url, content=chunked(), headers={"content-type": "text/plain", "connection": "close"})
    assert response.status_code == 413
    # The server is still healthy and accepts the next request.
    assert (await http.post(url, data={"message": "still fine"})).status_code == 204


def test_a_client_that_says_connection_close_gets_the_413_of_a_body_too_large(ingest_server: AppProcess) -> None:
    """Answered at its headers, closed at once with its body unread: the close was a reset, which threw the
    413 away before the client read it (urllib, which says `Connection: close`, got a broken pipe)."""
    head = (f"POST /live/{uuid.uuid4()} HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {2 * 1024 * 1024}\r\nConnection: close\r\n\r\n").encode()
    received = b""
    with socket.create_connection(("127.0.0.1", ingest_server.port), timeout=5) as client:
        try:
            client.sendall(head + b"x" * (256 * 1024))  # the rest of the body never comes
            time.sleep(0.3)  # the server answered, and closed or not
            while chunk := client.recv(65536):
                received += chunk
        except ConnectionResetError:
            pytest.fail(f"the connection was reset; read before: {received[:200]!r}")
    assert received.startswith(b"HTTP/1.1 413 "), received[:200]
    assert received.rstrip().endswith(b'send fewer entries per request"}'), received[-200:]


async def test_errors_are_json_never_500(ingest_server: AppProcess, http: httpx.AsyncClient) -> None:
    url = f"{ingest_server.url}/live/{uuid.uuid4()}"
    cases = [
        (http.post(url, content=b"\xff\xfe{", headers={"content-type": "application/json"}), 422),
        (http.post(url, content=b"<x/>", headers={"content-type": "application/xml"}), 415),
        (http.post(url, json=[{"message": "x"}] * 1001), 422),
        (http.post(f"{ingest_server.url}/live/nope", data={"message": "x"}), 404),
        (http.delete(url), 405),
        (http.get(url, headers={"accept": "application/json"}), 406),
        (http.get(f"{url}/entries?limit=0"), 422),
    ]
    for request, status in cases:
        response = await request
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        assert isinstance(response.json()["detail"], str)


async def test_python_snippet_runs_and_arrives(ingest_server: AppProcess, reader: RedisBus) -> None:
    stream, collector = await follow(reader)
    snippet = python_snippet(f"{ingest_server.url}/live/{stream}")
    result = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", snippet],
                                     capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    await collector.wait_for(1)
    assert collector.entries[0].entry.message == "Hello from Python"


async def test_curl_snippet_and_readme_batch_example_arrive(ingest_server: AppProcess, reader: RedisBus) -> None:
    curl = shutil.which("curl")
    assert curl, "curl is needed for this test; `./dev test` installs it"
    stream, collector = await follow(reader)
    url = f"{ingest_server.url}/live/{stream}"
    await asyncio.to_thread(subprocess.run, ["bash", "-c", curl_snippet(url)], check=True, timeout=30)
    batch = json.dumps([{"message": "one", "level": "info"}, {"message": "two", "level": "error"}])
    await asyncio.to_thread(subprocess.run, [curl, "-sf", "-H", "content-type: application/json", "-d", batch, url],
                            check=True, timeout=30)
    await collector.wait_for(3)
    assert [e.entry.message for e in collector.entries] == ["Hello from curl", "one", "two"]


async def test_ingest_only_process_serves_no_pages(ingest_server: AppProcess, http: httpx.AsyncClient) -> None:
    assert (await http.get(f"{ingest_server.url}/")).status_code == 404
    health = (await http.get(f"{ingest_server.url}/healthz")).json()
    assert {key: health[key] for key in ("status", "role", "bus", "viewers")} == {
        "status": "ok", "role": "ingest", "bus": "redis", "viewers": 0}


async def test_health_counts_the_entries_taken_and_the_requests_refused(ingest_server: AppProcess,
                                                                        http: httpx.AsyncClient) -> None:
    async def counts() -> tuple[int, int]:
        health = (await http.get(f"{ingest_server.url}/healthz")).json()
        return health["entries_accepted"], health["requests_refused"]

    accepted_before, refused_before = await counts()
    url = f"{ingest_server.url}/live/{uuid.uuid4()}"
    assert (await http.post(url, json=[{"message": "a"}, {"message": "b"}])).status_code == 204
    assert (await http.post(url, data={"message": "c"})).status_code == 204
    assert (await http.post(url, data={"level": "info"})).status_code == 422
    assert await counts() == (accepted_before + 3, refused_before + 1)
