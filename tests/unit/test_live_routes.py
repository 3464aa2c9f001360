"""Every `/live` route answers what the README's table says, on a process that takes logs and on one that does not.

The routes are tried in order; a reordering (the catch-all for other methods before the reads)
turns the GETs below into 405s, and this test fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from dashboard.bus.memory import MemoryBus
from dashboard.ingest import Ingest
from dashboard.live_routes import UI_ONLY, build_live_router
from dashboard.readback import Readback

STREAM = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"
JSON_ONLY = {"accept": "application/json"}  # the SSE route then answers 406 at once instead of streaming


def live_app(*, takes_logs: bool) -> FastAPI:
    bus = MemoryBus(max_length=100)
    app = FastAPI()
    readback = Readback(bus, default_history=10, keepalive_seconds=15)
    app.include_router(build_live_router(ingest=Ingest(bus) if takes_logs else None, readback=readback))
    return app


@pytest.fixture(params=[True, False], ids=["ingest and pages", "pages only"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=live_app(takes_logs=request.param))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        http.takes_logs = request.param  # type: ignore[attr-defined]
        yield http


async def test_reads_reach_their_routes(client: httpx.AsyncClient) -> None:
    follow = await client.get(f"/live/{STREAM}", headers=JSON_ONLY)
    assert follow.status_code == 406 and "text/event-stream" in follow.json()["detail"]
    page = await client.get(f"/live/{STREAM}/entries")
    assert (page.status_code, page.json()) == (200, {"entries": [], "next_after": None})


async def test_posts_and_preflights_are_taken_or_refused_by_role(client: httpx.AsyncClient) -> None:
    post = await client.post(f"/live/{STREAM}", data={"message": "hi"})
    preflight = await client.options(f"/live/{STREAM}")
    if client.takes_logs:  # type: ignore[attr-defined]
        assert (post.status_code, preflight.status_code) == (204, 204)
    else:
        assert (post.status_code, post.json()) == (404, {"detail": UI_ONLY})
        assert (preflight.status_code, preflight.json()) == (404, {"detail": UI_ONLY})


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD", "TRACE"])
async def test_other_methods_on_a_stream_are_405_with_allow(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, f"/live/{STREAM}")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST, OPTIONS")
    if method != "HEAD":
        assert response.json() == {"detail": "use POST to send entries to a stream, GET to follow it"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "HEAD"])
async def test_other_methods_on_entries_are_405_with_allow(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, f"/live/{STREAM}/entries")
    assert (response.status_code, response.headers["allow"]) == (405, "GET")


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS", "PUT"])
@pytest.mark.parametrize("path", ["/live", "/live/", "/live/nope", f"/live/{STREAM}0", f"/live/{STREAM}/other",
                                  f"/live/{STREAM}/", f"/live/{STREAM}/entries/x", f"/live/x/{STREAM}"])
async def test_paths_that_name_no_stream_are_404_json(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == 404
    assert "no such stream" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == "*"
