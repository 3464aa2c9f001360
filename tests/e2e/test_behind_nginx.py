"""The README's nginx configuration (deploy/nginx/bunnylogs-single.conf) in front of a real server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from harness.servers import NginxServer, running_app, running_nginx

from .conftest import open_stream

SITE = Path(__file__).parents[2] / "deploy" / "nginx" / "bunnylogs-single.conf"


@pytest.fixture(scope="module")
def proxy() -> Iterator[NginxServer]:
    with running_app() as app, running_nginx(SITE, app.port) as nginx:
        yield nginx


async def test_the_page_and_its_socket_work_through_nginx(page: Page, proxy: NginxServer) -> None:
    stream = str(uuid.uuid4())
    await open_stream(page, proxy.url, stream)
    # The snippets show the address the browser used: nginx's.
    await expect(page.locator(".ingest-url")).to_have_text(f"POST to {proxy.url}/live/{stream}")
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.post(f"{proxy.url}/live/{stream}", data={"message": "through nginx"})).status_code == 204
    await expect(page.locator(".bl-row", has_text="through nginx")).to_have_count(1)


async def test_an_event_stream_passes_through_unbuffered(proxy: NginxServer) -> None:
    stream = str(uuid.uuid4())
    async with httpx.AsyncClient(timeout=10) as http, http.stream("GET", f"{proxy.url}/live/{stream}") as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        chunks = events.aiter_raw()
        assert b": connected" in await anext(chunks)
        await http.post(f"{proxy.url}/live/{stream}", data={"message": "at once"})
        received = b""
        while b"at once" not in received:  # one line, no buffer to fill first: it comes on its own
            received += await anext(chunks)


async def test_bunnylogs_own_answers_come_through(proxy: NginxServer) -> None:
    stream = str(uuid.uuid4())
    async with httpx.AsyncClient(timeout=10) as http:
        too_big = await http.post(f"{proxy.url}/live/{stream}", content=b"x\n" * 700_000,
                                  headers={"content-type": "text/plain"})
        assert too_big.status_code == 413 and "detail" in too_big.json(), "BunnyLogs' JSON 413, not nginx's page"
        page = await http.get(f"{proxy.url}/{stream}")
        assert page.status_code == 200 and page.headers["content-security-policy"]
