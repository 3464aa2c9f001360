"""deploy/nginx/bunnylogs-cluster.conf in front of two ingest processes, two UI processes and one
redis-server: browsers spread over the UI processes (affinity per browser, not per address), POSTs
over the ingest processes, and every browser shows every entry once, in the same order; also after
a UI process is killed, its browsers going on at the other one, with every row they held."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from bench.light_viewers import open_light_viewer
from dashboard.settings import Settings
from harness.servers import AppProcess, NginxServer, running_app, running_nginx, wait_for_viewers

from .conftest import open_stream

SITE = Path(__file__).parents[2] / "deploy" / "nginx" / "bunnylogs-cluster.conf"
# Browsers opened first, and at most: while all are on one of the two UI processes (by chance,
# 2 in 1,024 for ten), more are opened (all twenty on one: 2 in a million).
BROWSERS = 10
MAX_BROWSERS = 20
UI_IDLE_TIMEOUT_S = Settings.model_fields["idle_timeout_seconds"].default
SESSIONS = 200
LINES = 30


@pytest.fixture(scope="module")
def cluster(redis_url: str) -> Iterator[tuple[NginxServer, list[AppProcess], list[AppProcess]]]:
    with contextlib.ExitStack() as stack:
        ingest = [stack.enter_context(running_app("--role", "ingest", "--redis-url", redis_url)) for _ in range(2)]
        # The default idle timeout, which the file's keepalive_timeout is below (a shorter one here had
        # nginx send requests on connections the process was closing: a page's socket then went to the other).
        ui = [stack.enter_context(running_app("--role", "ui", "--redis-url", redis_url, "--viewers-per-client", "0"))
              for _ in range(2)]
        ports = {8001: ingest[0].port, 8002: ingest[1].port, 8101: ui[0].port, 8102: ui[1].port}
        nginx = stack.enter_context(running_nginx(SITE, ports))
        yield nginx, ingest, ui


def viewers(app: AppProcess) -> int:
    return int(httpx.get(f"{app.url}/healthz", timeout=10).json()["viewers"])


async def test_browsers_spread_over_the_ui_processes_and_all_show_every_entry_in_order(
        browser: Browser, cluster: tuple[NginxServer, list[AppProcess], list[AppProcess]]) -> None:
    nginx, ingest, ui = cluster
    stream = str(uuid.uuid4())
    # Each context has its own cookies: another browser. Tall enough to draw every row.
    contexts: list[BrowserContext] = []
    try:
        pages: list[Page] = []
        while len(pages) < BROWSERS or (len(pages) < MAX_BROWSERS and not all(viewers(process) for process in ui)):
            contexts.append(await browser.new_context(viewport={"width": 1280, "height": 1600}))
            page = await contexts[-1].new_page()
            await open_stream(page, nginx.url, stream)
            pages.append(page)
        # Both UI processes serve some of the browsers, which all share one client address.
        assert all(viewers(process) > 0 for process in ui), [viewers(process) for process in ui]
        assert sum(viewers(process) for process in ui) == len(pages)
        # Each page's socket reached the process that made the page (else its handshake fails: without
        # the cookie each request would pick a process at random). So does a reload's.
        await pages[0].reload()
        await pages[0].wait_for_function("window.socket && window.socket.connected && window.did_handshake")
        await expect(pages[0].locator(".ingest-url")).to_have_text(f"POST to {nginx.url}/live/{stream}")
        async with httpx.AsyncClient(timeout=10) as http:
            for n in range(LINES):
                response = await http.post(f"{nginx.url}/live/{stream}", data={"message": f"line {n:02d}"})
                assert response.status_code == 204
        taken = [int(httpx.get(f"{process.url}/healthz").json()["entries_accepted"]) for process in ingest]
        assert all(count > 0 for count in taken) and sum(taken) >= LINES, taken
        expected = [f"line {n:02d}" for n in range(LINES)]
        for page in pages:
            # Every line once (the count), in order (the rows drawn: the list draws those in view).
            await expect(page.locator(".bl-count")).to_have_text(f"{LINES} lines")
            await expect(page.locator(".bl-message").last).to_have_text(expected[-1])
            drawn = await page.locator(".bl-message").all_inner_texts()
            assert drawn == expected[-len(drawn):]
    finally:
        for context in contexts:
            await context.close()



async def test_sockets_that_nginx_sends_on_kept_alive_connections_outlive_the_idle_timeout(
        cluster: tuple[NginxServer, list[AppProcess], list[AppProcess]]) -> None:
    """nginx keeps its connections to the UI processes alive and may send a page's socket upgrade on
    the very connection the page came on, as soon as it has the page's whole body: before the
    process has finished that answer (its last, empty part comes through Starlette's middleware a
    moment later). The process's idle timer must not then close the socket."""
    nginx, _, _ = cluster
    stream = str(uuid.uuid4())
    # Like browsers, without a cookie jar: each session's page picks its UI process, its socket follows.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        sessions = [await open_light_viewer(http, "127.0.0.1", nginx.port, stream, affinity_cookie=True)
                    for _ in range(SESSIONS)]
        try:
            await asyncio.sleep(UI_IDLE_TIMEOUT_S + 2)
            assert sum(session.closed.is_set() for session in sessions) == 0
            async with http.post(f"{nginx.url}/live/{stream}", data={"message": "to every socket"}) as answer:
                assert answer.status == 204
            async with asyncio.timeout(10):
                while any(session.arrivals.rows < 1 for session in sessions):
                    await asyncio.sleep(0.05)
        finally:
            for session in sessions:
                session.close()


KILL_HISTORY = 20  # far fewer than the pages hold: a reloaded page must get back more than the history
HELD = "getElement(document.querySelector('.bl-log')).logRows.all.map((entry) => entry.message)"


@pytest.fixture
def cluster_with_small_history(redis_url: str) -> Iterator[tuple[NginxServer, list[AppProcess], list[AppProcess]]]:
    with contextlib.ExitStack() as stack:
        ingest = [stack.enter_context(running_app("--role", "ingest", "--redis-url", redis_url)) for _ in range(2)]
        ui = [stack.enter_context(running_app("--role", "ui", "--redis-url", redis_url, "--history", str(KILL_HISTORY),
                                              "--max-rows", "300")) for _ in range(2)]
        ports = {8001: ingest[0].port, 8002: ingest[1].port, 8101: ui[0].port, 8102: ui[1].port}
        nginx = stack.enter_context(running_nginx(SITE, ports))
        yield nginx, ingest, ui


async def post_lines(url: str, lines: list[str]) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for line in lines:
            assert (await http.post(url, data={"message": line})).status_code == 204


async def test_a_killed_ui_process_s_browsers_carry_on_at_the_other_with_every_entry_once(
        browser: Browser, cluster_with_small_history: tuple[NginxServer, list[AppProcess], list[AppProcess]]) -> None:
    nginx, _, ui = cluster_with_small_history
    stream = str(uuid.uuid4())
    url = f"{nginx.url}/live/{stream}"
    contexts = []
    pages_on: dict[int, list[Page]] = {0: [], 1: []}
    try:
        while not (pages_on[0] and pages_on[1]):  # browsers on both processes: which one is known by its count
            assert len(contexts) < 12, "the browsers did not spread over both UI processes"
            contexts.append(context := await browser.new_context())
            before = viewers(ui[0])
            page = await context.new_page()
            await open_stream(page, nginx.url, stream)
            deadline = time.monotonic() + 20
            while viewers(ui[0]) + viewers(ui[1]) < len(contexts):  # it subscribes just after its socket comes
                assert time.monotonic() < deadline, "a page was not fed"
                await asyncio.sleep(0.05)
            pages_on[0 if viewers(ui[0]) > before else 1].append(page)
        expected = [f"before {n:03d}" for n in range(60)]
        await post_lines(url, expected)
        for page in pages_on[0] + pages_on[1]:
            await expect(page.locator(".bl-count")).to_have_text("60 lines")

        assert ui[0].process is not None
        ui[0].process.kill()  # SIGKILL: no goodbye to its browsers
        during = [f"during {n:03d}" for n in range(30)]
        await post_lines(url, during)
        # Its browsers reconnect through nginx to the other process (reloading there).
        await wait_for_viewers(ui[1].url, len(contexts), timeout_s=60)
        after = [f"after {n:03d}" for n in range(30)]
        await post_lines(url, after)
        expected += during + after
        for page in pages_on[0] + pages_on[1]:
            await expect(page.locator(".bl-count")).to_have_text(f"{len(expected)} lines", timeout=20_000)
            assert await page.evaluate(HELD) == expected
    finally:
        for context in contexts:
            await context.close()


async def test_a_page_with_cookies_of_other_apps_on_the_host_opens_and_follows_through_nginx(
        browser: Browser, cluster: tuple[NginxServer, list[AppProcess], list[AppProcess]]) -> None:
    """nginx takes 8 KiB a line by default: a page whose cookies passed that was answered 400 by nginx (and its
    socket, straight to BunnyLogs, hung unanswered)."""
    nginx, _, _ = cluster
    stream = str(uuid.uuid4())
    context = await browser.new_context()
    try:
        await context.add_cookies([{"name": f"other_app_{index}", "value": "v" * 4000, "url": nginx.url}
                                   for index in range(5)])  # 20 KB: a browser keeps at most 4 KB a cookie
        page = await context.new_page()
        await open_stream(page, nginx.url, stream)
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(f"{nginx.url}/live/{stream}", data={"message": "past the cookies"})
            assert response.status_code == 204
        await expect(page.locator(".bl-message")).to_have_text(["past the cookies"])
    finally:
        await context.close()
