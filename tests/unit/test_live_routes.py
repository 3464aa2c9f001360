"""Every `/live` route answers what the README's table says, on a process that takes logs and on one that does not.

The routes are tried in order; a reordering (the catch-all for other methods before the reads)
turns the GETs below into 405s, and this test fails.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from dashboard.bus.memory import MemoryBus
from dashboard.ingest import Ingest
from dashboard.live_routes import NO_PAGES, UI_ONLY, build_live_router
from dashboard.protocol import view_key
from dashboard.readback import Readback

STREAM = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"
JSON_ONLY = {"accept": "application/json"}  # the SSE route then answers 406 at once instead of streaming


def live_app(*, takes_logs: bool, page_base: str | None = "", bus: MemoryBus | None = None) -> FastAPI:
    bus = bus or MemoryBus(max_length=100)
    app = FastAPI()
    readback = Readback(bus, default_history=10, keepalive_seconds=15)
    app.include_router(build_live_router(ingest=Ingest(bus) if takes_logs else None, readback=readback,
                                         page_base=page_base))
    return app


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture(params=[True, False], ids=["ingest and pages", "pages only"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    bus = MemoryBus(max_length=100)
    app = live_app(takes_logs=request.param, bus=bus)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        http.takes_logs = request.param  # type: ignore[attr-defined]
        http.bus = bus  # type: ignore[attr-defined]
        http.app = app  # type: ignore[attr-defined]
        yield http


async def post_with_the_write_key(client: httpx.AsyncClient, *messages: str) -> None:
    """POST `messages` to STREAM on the client's process, or on an ingest process beside it (same bus)."""
    async with client_of(live_app(takes_logs=True, bus=client.bus)) as ingest_beside:  # type: ignore[attr-defined]
        writer = client if client.takes_logs else ingest_beside  # type: ignore[attr-defined]
        for message in messages:
            assert (await writer.post(f"/live/{STREAM}", data={"message": message})).status_code == 204


async def first_events(app: FastAPI, path: str, count: int) -> list[dict[str, Any]]:
    """The data of the first `count` events of `GET path` as Server-Sent Events; then the client leaves."""
    events: list[dict[str, Any]] = []
    enough = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await enough.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200
        for line in message.get("body", b"").splitlines():
            if line.startswith(b"data: "):
                events.append(json.loads(line[len(b"data: "):]))
        if len(events) >= count:
            enough.set()

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "client": ("test", 1),
             "server": ("test", 80), "headers": [(b"host", b"test"), (b"accept", b"text/event-stream")]}
    await asyncio.wait_for(app(scope, receive, send), timeout=5)
    return events


async def test_reads_reach_their_routes(client: httpx.AsyncClient) -> None:
    follow = await client.get(f"/live/{STREAM}", headers=JSON_ONLY)
    assert follow.status_code == 406 and "text/event-stream" in follow.json()["detail"]
    page = await client.get(f"/live/{STREAM}/entries")
    assert (page.status_code, page.json()["entries"], page.json()["kept"]) == (200, [], 0)


async def test_posts_and_preflights_are_taken_or_refused_by_role(client: httpx.AsyncClient) -> None:
    post = await client.post(f"/live/{STREAM}", data={"message": "hi"})
    preflight = await client.options(f"/live/{STREAM}")
    if client.takes_logs:  # type: ignore[attr-defined]
        assert (post.status_code, preflight.status_code) == (204, 204)
    else:
        assert (post.status_code, post.json()) == (404, {"detail": UI_ONLY})
        assert (preflight.status_code, preflight.json()) == (404, {"detail": UI_ONLY})


VIEW = view_key(STREAM)


@pytest.mark.parametrize("key", [VIEW, VIEW.upper()])
async def test_a_post_with_a_view_key_is_403_and_says_why(client: httpx.AsyncClient, key: str) -> None:
    response = await client.post(f"/live/{key}", data={"message": "not allowed"})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"] and "write URL" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == "*", "a browser app may read why"
    assert (await client.get(f"/live/{VIEW}/entries")).json()["entries"] == []


async def test_reads_with_the_view_key_see_what_the_write_key_posted(client: httpx.AsyncClient) -> None:
    await post_with_the_write_key(client, "one", "two")
    by_view = (await client.get(f"/live/{VIEW}/entries")).json()
    assert [entry["message"] for entry in by_view["entries"]] == ["one", "two"]
    assert (await client.get(f"/live/{STREAM}/entries")).json() == by_view, "the write key reads the same"
    assert (await client.get(f"/live/{VIEW.upper()}/entries")).json() == by_view
    followed = await first_events(client.app, f"/live/{VIEW}", 2)  # type: ignore[attr-defined]
    assert followed == by_view["entries"]


async def test_a_post_to_a_view_key_page_address_says_it_is_read_only(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/{VIEW}", data={"message": "to the page"})
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")
    assert "read-only" in response.json()["detail"] and f"/live/{VIEW}" not in response.json()["detail"]


# PROPFIND, PURGE, QUERY: methods HTTP leaves open, which fell through to the pages' "No such page" in HTML.
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD", "TRACE", "PROPFIND", "PURGE", "QUERY"])
async def test_other_methods_on_a_stream_are_405_with_allow(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, f"/live/{STREAM}")
    if not client.takes_logs:  # type: ignore[attr-defined]  # it said "use POST", which it refuses
        assert (response.status_code, response.headers["allow"]) == (405, "GET")
        if method != "HEAD":
            assert response.json() == {"detail": f"use GET to follow a stream; {UI_ONLY}"}
        return
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST, OPTIONS")
    if method != "HEAD":
        assert response.json() == {"detail": "use POST to send entries to a stream, GET to follow it"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PROPFIND", "MKCOL"])
async def test_other_methods_on_entries_are_405_with_allow(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, f"/live/{STREAM}/entries")
    assert (response.status_code, response.headers["allow"]) == (405, "GET")


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS", "PUT", "PROPFIND"])
@pytest.mark.parametrize("path", ["/live", "/live/", "/live/nope", f"/live/{STREAM}0", f"/live/{STREAM}/other",
                                  f"/live/{STREAM}/", f"/live/{STREAM}/entries/x", f"/live/x/{STREAM}"])
async def test_paths_that_name_no_stream_are_404_json(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == 404
    assert "no such stream" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == "*"


async def test_an_upper_case_uuid_reads_the_same_stream(client: httpx.AsyncClient) -> None:
    if client.takes_logs:  # type: ignore[attr-defined]
        assert (await client.post(f"/live/{STREAM.upper()}", data={"message": "upper"})).status_code == 204
        page = await client.get(f"/live/{STREAM}/entries")
        assert [entry["message"] for entry in page.json()["entries"]] == ["upper"]
    same = await client.get(f"/live/{STREAM.upper()}/entries")
    assert same.json() == (await client.get(f"/live/{STREAM}/entries")).json()


BROWSER_ACCEPT = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_a_browser_opening_the_stream_url_is_sent_to_its_page(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/live/{STREAM.upper()}", headers=BROWSER_ACCEPT)
    assert (response.status_code, response.headers["location"]) == (303, f"/{STREAM}")


async def test_a_process_without_pages_sends_browsers_to_the_public_url_or_streams() -> None:
    async with client_of(live_app(takes_logs=True, page_base="https://logs.example")) as proxied:
        response = await proxied.get(f"/live/{STREAM}", headers=BROWSER_ACCEPT)
        assert (response.status_code, response.headers["location"]) == (303, f"https://logs.example/{STREAM}")
    async with client_of(live_app(takes_logs=True, page_base=None)) as alone:
        response = await alone.get(f"/live/{STREAM}", headers={**BROWSER_ACCEPT, **JSON_ONLY})
        assert response.status_code == 406  # no page to send it to: the event stream's own answer
        page = await alone.get(f"/{STREAM}")
        assert (page.status_code, page.json()) == (404, {"detail": NO_PAGES})


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_a_post_to_the_page_address_says_where_to_post(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, f"/{STREAM.upper()}", data={"message": "to the page"})
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")
    assert response.json() == {"detail": f"this is the stream's page; send log entries with POST to /live/{STREAM}"}


async def test_a_bug_is_a_json_500_not_plain_text() -> None:
    from dashboard.app import create_app
    from dashboard.settings import Settings

    app = create_app(Settings(role="ingest", redis_url="redis://127.0.0.1:1/0"))  # no pages: NiceGUI stays out

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/broken")
    assert (response.status_code, response.json()) == (500, {"detail": "internal server error; see the server log"})
