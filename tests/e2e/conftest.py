"""Real Chromium (Debian's, via Playwright) against real BunnyLogs servers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, WebSocketRoute, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from harness.servers import AppProcess, chromium, running_app

# The history and row cap are small here so that tests can reach them quickly.
E2E_HISTORY = 250
E2E_MAX_ROWS = 300


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


# The `page` fixture's console lines, for the report of a test that fails.
CONSOLE = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """A failed test's report shows what its tab wrote to the console (NiceGUI says there why it reloads)."""
    report: pytest.TestReport = yield
    console = item.stash.get(CONSOLE, None)
    if report.failed and console:
        report.sections.append(("browser console", "\n".join(console[-200:])))
    return report


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A fresh tab; fails the test if the page throws a JavaScript error."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    tab = await context.new_page()
    tab.on("pageerror", lambda error: errors.append(str(error)))
    console = request.node.stash.setdefault(CONSOLE, [])
    tab.on("console", lambda message: console.append(_console_line(message)))
    yield tab
    await context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
async def second_page(page: Page) -> AsyncIterator[Page]:
    """Another tab in another browser context (another viewer)."""
    assert page.context.browser is not None
    context = await page.context.browser.new_context()
    yield await context.new_page()
    await context.close()


@pytest.fixture(scope="session")
def app_server() -> Iterator[AppProcess]:
    """One server on the embedded bus, shared by the tests; each test uses its own stream."""
    with running_app("--history", str(E2E_HISTORY), "--max-rows", str(E2E_MAX_ROWS)) as app:
        yield app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def _console_line(message: ConsoleMessage) -> str:
    return f"{message.type}: {message.text}"


async def open_stream(page: Page, base_url: str, stream_id: str) -> None:
    """Open a stream's page and wait until its websocket is live."""
    console: list[str] = []

    def note(message: ConsoleMessage) -> None:
        console.append(_console_line(message))

    page.on("console", note)
    try:
        response = await page.goto(f"{base_url}/{stream_id}")
        assert response is not None and response.status == 200
        await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    except PlaywrightTimeoutError as error:
        raise AssertionError(f"{page.url}: the page's socket did not connect and handshake; its console said "
                             f"{console}") from error
    finally:
        page.remove_listener("console", note)


class HeldOutbox:
    """Holds back NiceGUI's messages to a page, as a slow outbox would: once `hold` is called, from the
    first message that contains `from_marker` on (every one, for ""), until `release`. The rows feed's
    messages pass. (A page drops a NiceGUI message older than one it has had: held ones keep their order.)"""

    def __init__(self) -> None:
        self.held: list[str | bytes] = []
        self._marker: str | None = None
        self._socket: WebSocketRoute | None = None

    async def route(self, page: Page) -> None:
        """Route the page's NiceGUI socket through this (before the page opens)."""
        await page.route_web_socket(re.compile(r"/_nicegui_ws/"), self._connect)

    def hold(self, from_marker: str = "") -> None:
        self._marker = from_marker

    def release(self) -> None:
        assert self._socket is not None
        for message in self.held:
            self._socket.send(message)
        self.held = []
        self._marker = None

    def _connect(self, socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        self._socket = socket

        def from_server(message: str | bytes) -> None:
            text = message if isinstance(message, str) else ""
            if '"_id":' in text and self._marker is not None and (self.held or self._marker in text):
                self.held.append(message)
            else:
                socket.send(message)

        server.on_message(from_server)
        socket.on_message(server.send)


async def pause(page: Page) -> None:
    """Press Pause and wait until the page holds what arrives. The server tells the page to pause, and
    rows that come before that are drawn; the paused count is there all along, hidden ("paused · 0 new")."""
    await page.locator(".bl-pause").click()
    await expect(page.locator(".bl-paused")).to_be_visible()


async def download(page: Page, file_format: str) -> str:
    """Download the rows shown as `log` or `ndjson`, through the download menu; the file's text."""
    # The last download's menu, still fading out, took the clicks of a second download on a busy CI run.
    await expect(page.locator(".q-menu")).to_have_count(0)
    await page.locator(".bl-download").click()
    async with page.expect_download() as download_info:
        await page.locator(f".bl-download-{file_format}").click()
    return Path(await (await download_info.value).path()).read_text(encoding="utf-8")


# The visible controls outside the element that the element's box overlaps (their text or label).
_CONTROLS_UNDER = """(selector) => {
  const cover = document.querySelector(selector).getBoundingClientRect();
  const overlaps = (box) => box.width && box.height && box.left < cover.right && cover.left < box.right
    && box.top < cover.bottom && cover.top < box.bottom;
  return [...document.querySelectorAll('button, a, input, [role=button], .q-btn')]
    .filter((control) => !control.closest(selector) && overlaps(control.getBoundingClientRect()))
    .map((control) => control.textContent.trim() || control.getAttribute('aria-label'));
}"""


async def controls_under(page: Page, selector: str) -> list[str]:
    """The controls that the first element `selector` matches lies over (a notice must cover none)."""
    controls: list[str] = await page.evaluate(_CONTROLS_UNDER, selector)
    return controls
