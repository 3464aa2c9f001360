"""POST /live/<uuid> over ASGI: every status the contract names, and nothing half-accepted."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp

from dashboard.bus.memory import MemoryBus
from dashboard.entry import LogEntry, StreamEntry
from dashboard.ingest import Ingest, IngestFastLane
from dashboard.live_routes import build_live_router
from dashboard.protocol import bus_stream_id, view_key
from dashboard.readback import Readback
from dashboard.stream import BusUnavailable

from ..support import Collector

STREAM = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"


class BrokenBus(MemoryBus):
    """A bus whose backend is down."""

    async def publish(self, stream_id: str, entries: Sequence[LogEntry], *, batch_key: str | None = None) -> list[str]:
        raise BusUnavailable("redis is down")


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus(max_length=10_000)


def ingest_app(bus: MemoryBus, path: str) -> ASGIApp:
    """The FastAPI router alone, or with the fast lane a server puts in front of it: both must behave alike."""
    ingest = Ingest(bus)
    app = FastAPI()
    app.include_router(build_live_router(ingest=ingest, readback=Readback(bus, default_history=0,
                                                                          keepalive_seconds=15)))
    return IngestFastLane(app, ingest) if path == "fast lane" else app


@pytest.fixture(params=["router", "fast lane"])
async def client(bus: MemoryBus, request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ingest_app(bus, request.param))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def received(bus: MemoryBus, stream_id: str = STREAM) -> list[StreamEntry]:
    collector = Collector()
    (await bus.subscribe(bus_stream_id(stream_id), collector, history=10_000)).close()
    return collector.entries


async def test_form_post_is_204_and_lands_on_the_bus(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    response = await client.post(f"/live/{STREAM}", data={"message": "hello", "level": "warn", "program": "cron"})
    assert (response.status_code, response.content) == (204, b"")
    [stored] = await received(bus)
    assert (stored.entry.message, stored.entry.level, stored.entry.program) == ("hello", "WARNING", "cron")


async def test_an_upper_case_uuid_names_the_same_stream(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    response = await client.post(f"/live/{STREAM.upper()}", data={"message": "from uuidgen on macOS"})
    assert response.status_code == 204
    assert [stored.entry.message for stored in await received(bus)] == ["from uuidgen on macOS"]


async def test_a_view_key_is_refused_with_403_and_nothing_lands(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    response = await client.post(f"/live/{view_key(STREAM)}", data={"message": "through a read-only link"})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("this is a read-only key")
    assert await received(bus) == [] and await received(bus, view_key(STREAM)) == []


@pytest.mark.parametrize("path", [
    "/live/not-a-uuid", f"/live/{{{STREAM}}}", f"/live/{STREAM.replace('-', '')}",
    f"/live/{STREAM}/extra", "/live/",
])
async def test_non_canonical_stream_is_404_json(client: httpx.AsyncClient, bus: MemoryBus, path: str) -> None:
    response = await client.post(path, data={"message": "x"})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("no such stream")


async def test_body_over_1_mib_is_413_and_nothing_lands(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    body = ("x" * 1000 + "\n") * 1100
    response = await client.post(f"/live/{STREAM}", content=body, headers={"content-type": "text/plain"})
    assert response.status_code == 413 and "1024 KiB" in response.json()["detail"]
    assert await received(bus) == []


async def test_streamed_body_without_length_is_cut_at_1_mib(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(300):
            yield b"y" * 4096 + b"\n"

    response = await client.post(f"/live/{STREAM}", content=chunks(), headers={"content-type": "text/plain"})
    assert response.status_code == 413
    assert await received(bus) == []


async def test_a_body_in_several_chunks_is_joined_in_order(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first li"
        yield b"ne\nsecond"
        yield b" line\n"

    response = await client.post(f"/live/{STREAM}", content=chunks(), headers={"content-type": "text/plain"})
    assert response.status_code == 204
    assert [s.entry.message for s in await received(bus)] == ["first line", "second line"]


@pytest.mark.parametrize("path", ["router", "fast lane"])
async def test_a_client_gone_mid_body_stores_nothing(bus: MemoryBus, path: str) -> None:
    messages = iter([{"type": "http.request", "body": b"message=half", "more_body": True},
                     {"type": "http.disconnect"}])
    sent: list[dict] = []

    async def receive() -> dict:
        return next(messages)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": f"/live/{STREAM}", "raw_path": f"/live/{STREAM}".encode(),
             "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
             "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
             "server": ("test", 80), "client": ("test", 1234)}
    await ingest_app(bus, path)(scope, receive, send)
    assert sent[0]["status"] == 400
    assert await received(bus) == []


async def test_unknown_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/live/{STREAM}", content=b"<log/>", headers={"content-type": "application/xml"})
    assert response.status_code == 415 and "application/xml" in response.json()["detail"]


async def test_bad_batch_is_422_and_nothing_of_it_lands(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    batch = [{"message": f"line {i}"} for i in range(10)] + [{"message": "bad", "timestamp": "never"}]
    response = await client.post(f"/live/{STREAM}", json=batch)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("entry 11: timestamp 'never' is not ISO 8601")
    assert await received(bus) == []


async def test_batch_lands_in_order_with_increasing_ids(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    body = "\n".join(json.dumps({"message": str(i)}) for i in range(500))
    response = await client.post(f"/live/{STREAM}", content=body, headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 204
    stored = await received(bus)
    assert [s.entry.message for s in stored] == [str(i) for i in range(500)]
    assert len({s.id for s in stored}) == 500


@pytest.mark.parametrize("path", ["router", "fast lane"])
async def test_bus_outage_is_503_with_retry_after(path: str) -> None:
    transport = httpx.ASGITransport(app=ingest_app(BrokenBus(max_length=10), path))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(f"/live/{STREAM}", data={"message": "x"})
    assert (response.status_code, response.headers["retry-after"]) == (503, "1")
    assert response.json() == {"detail": "the log bus is unavailable; retry shortly"}


async def test_browser_apps_on_other_origins_may_post(client: httpx.AsyncClient) -> None:
    preflight = await client.options(f"/live/{STREAM}", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "GET, POST"
    assert preflight.headers["access-control-allow-headers"].lower() == "content-type, last-event-id, idempotency-key"
    accepted = await client.post(f"/live/{STREAM}", json={"message": "from a browser"})
    refused = await client.post(f"/live/{STREAM}", json={"level": "info"})
    assert accepted.headers["access-control-allow-origin"] == refused.headers["access-control-allow-origin"] == "*"
    assert (await client.options("/live/not-a-stream")).status_code == 404


class FaultyBus(MemoryBus):
    """A bus with a bug: publish raises something no one expects."""

    async def publish(self, stream_id: str, entries: Sequence[LogEntry], *, batch_key: str | None = None) -> list[str]:
        raise RuntimeError("a bug")


async def test_a_bug_behind_the_fast_lane_is_a_json_500_not_a_hang() -> None:
    transport = httpx.ASGITransport(app=ingest_app(FaultyBus(max_length=10), "fast lane"))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(f"/live/{STREAM}", data={"message": "x"})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error; see the server log"}


async def test_a_repeated_idempotency_key_stores_the_batch_once(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    for _ in range(2):
        response = await client.post(f"/live/{STREAM}", json=[{"message": "a"}, {"message": "b"}],
                                     headers={"Idempotency-Key": "batch-7f3a"})
        assert response.status_code == 204
    assert [e.entry.message for e in await received(bus)] == ["a", "b"]


@pytest.mark.parametrize("key", ["", "has space", "a/b", "x" * 129, "semi;colon"])
async def test_a_bad_idempotency_key_is_a_422_that_says_the_rule(client: httpx.AsyncClient, bus: MemoryBus,
                                                                   key: str) -> None:
    response = await client.post(f"/live/{STREAM}", data={"message": "m"}, headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert response.json() == {"detail": "the Idempotency-Key header must be 1 to 128 letters, digits, '.', '_', "
                                         "':' or '-'"}
    assert await received(bus) == []


def test_the_openapi_documents_the_idempotency_key() -> None:
    app = ingest_app(MemoryBus(max_length=10), "router")
    assert isinstance(app, FastAPI)
    post = app.openapi()["paths"]["/live/{stream_id}"]["post"]
    header = next(parameter for parameter in post["parameters"] if parameter["in"] == "header")
    assert header["name"] == "Idempotency-Key" and header["schema"]["maxLength"] == 128
    assert "retries" in header["description"] and "Idempotency-Key" in post["responses"]["422"]["description"]


@pytest.mark.parametrize("lines", [[("Content-Encoding", "identity"), ("Content-Encoding", "gzip")],
                                   [("Content-Encoding", "gzip"), ("Content-Encoding", "identity")],
                                   [("Content-Encoding", "identity, gzip")]])
async def test_a_content_encoding_on_several_lines_is_read_as_one_list(client: httpx.AsyncClient, bus: MemoryBus,
                                                                     lines: list[tuple[str, str]]) -> None:
    # Only the first line was read: the gzip bytes were stored as the message, with a 204.
    response = await client.post(f"/live/{STREAM}", content=gzip.compress(b"hello"),
                                 headers=[("Content-Type", "text/plain"), *lines])
    assert response.status_code == 204
    assert [e.entry.message for e in await received(bus)] == ["hello"]


async def test_an_idempotency_key_on_two_lines_is_refused_as_two_keys_on_one(client: httpx.AsyncClient,
                                                                            bus: MemoryBus) -> None:
    # The first line alone was taken as the key: a later batch with it alone was dropped as a repeat.
    for headers in ([("Idempotency-Key", "k3"), ("Idempotency-Key", "k4")], [("Idempotency-Key", "k3, k4")]):
        response = await client.post(f"/live/{STREAM}", data={"message": "m"}, headers=headers)
        assert response.status_code == 422
        assert "Idempotency-Key" in response.json()["detail"]
    response = await client.post(f"/live/{STREAM}", data={"message": "kept"}, headers={"Idempotency-Key": "k3"})
    assert response.status_code == 204
    assert [e.entry.message for e in await received(bus)] == ["kept"]


async def test_a_second_content_type_is_a_400(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    response = await client.post(f"/live/{STREAM}", content=b"message=m",
                                 headers=[("Content-Type", "application/x-www-form-urlencoded"),
                                          ("Content-Type", "text/plain")])
    assert response.status_code == 400
    assert response.json() == {"detail": "the Content-Type header is given more than once"}
    assert await received(bus) == []
