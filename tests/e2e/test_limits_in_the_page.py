"""Limits as a person sees them: thousands of levels make a bounded toolbar, a full stream says so."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Page, expect

from dashboard.pages.viewer_controls import MAX_LEVEL_CHIPS
from harness.servers import AppProcess, running_app

from .conftest import open_stream


@pytest.fixture(scope="module")
def uncapped_server() -> Iterator[AppProcess]:
    """A server that folds no names (so the page alone must bound them) and allows one viewer per stream."""
    with running_app("--history", "0", "--levels-per-stream", "0", "--programs-per-stream", "0",
                     "--viewers-per-stream", "1", "--page-reconnect-seconds", "3") as app:
        yield app


async def test_3000_custom_levels_make_a_bounded_number_of_chips(
        page: Page, uncapped_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    await open_stream(page, uncapped_server.url, stream)
    for start in range(0, 3000, 1000):
        batch = [{"message": f"m{n}", "level": f"CUSTOM{n}", "program": f"p{n}"} for n in range(start, start + 1000)]
        assert (await http.post(f"{uncapped_server.url}/live/{stream}", json=batch)).status_code == 204
    await expect(page.locator(".bl-count")).to_have_text("3,000 lines", timeout=15_000)
    await expect(page.locator(".bl-more-levels")).to_be_visible()
    assert await page.locator(".bl-level-chip").count() == MAX_LEVEL_CHIPS


async def test_a_page_over_the_viewers_limit_says_which_limit(
        page: Page, second_page: Page, uncapped_server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await open_stream(page, uncapped_server.url, stream)
    await second_page.goto(f"{uncapped_server.url}/{stream}")
    await expect(second_page.locator(".bl-limited")).to_contain_text("too many viewers")
    await expect(second_page.locator(".bl-limited")).to_contain_text("--viewers-per-stream")
    await expect(second_page.locator(".bl-limited")).to_contain_text("its place is free about 3 s after it closes")
    assert await second_page.locator(".stream-log").count() == 0
    await page.close()  # the first viewer leaves: its place is free once NiceGUI lets its client go


async def test_a_merged_view_of_more_streams_than_a_client_may_follow_says_it_can_never_open_here(page: Page) -> None:
    streams = [str(uuid.uuid4()) for _ in range(8)]
    with running_app("--viewers-per-client", "6") as app:
        response = await page.goto(f"{app.url}/{'+'.join(streams)}")
        assert response is not None and response.status == 400  # it would never fit: not worth a retry
        limited = page.locator(".bl-limited")
        await expect(limited).to_contain_text("This view follows 8 streams")
        await expect(limited).to_contain_text("lets one client follow at most 6 at once")
        await expect(limited).to_contain_text("--viewers-per-client")
        await expect(limited).not_to_contain_text("Close another page")
        assert await page.locator(".stream-log").count() == 0
        await open_stream(page, app.url, "+".join(streams[:6]))  # six fit
        await expect(page.locator(".stream-log")).to_have_count(1)


async def test_pages_whose_socket_never_connects_give_their_places_back_soon(
        page: Page, http: httpx.AsyncClient) -> None:
    refusal = "Too many BunnyLogs pages and event streams are open from your address"
    connect_s = 2.0
    with running_app("--viewers-per-client", "3", "--page-connect-seconds", str(connect_s)) as app:
        for _ in range(3):  # a crawler, or curl: the page's HTML, never its socket
            response = await http.get(f"{app.url}/{uuid.uuid4()}")
            assert response.status_code == 200 and refusal not in response.text
        assert refusal in (await http.get(f"{app.url}/{uuid.uuid4()}")).text  # they hold the client's places
        stream = str(uuid.uuid4())
        deadline = time.monotonic() + connect_s + 10  # NiceGUI alone lets them go after a minute or more
        while True:
            await page.goto(f"{app.url}/{stream}")
            await expect(page.locator(".stream-log, .bl-limited")).to_have_count(1)
            if await page.locator(".stream-log").count():
                break
            assert time.monotonic() < deadline, "the pages without a socket still hold their places"
            await asyncio.sleep(1)
        await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
