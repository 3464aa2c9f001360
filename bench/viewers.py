"""Viewers in a real Chromium: open stream pages, read their counts, time when lines appear."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
from playwright.async_api import Browser, Page

# Records, for each line whose message starts with "lat-<n> ", when its row first entered the page.
_LATENCY_OBSERVER = """
() => {
  window.__shownAt = {};
  const record = (node) => {
    const messages = node.matches?.('.bl-message') ? [node] : node.querySelectorAll?.('.bl-message') ?? [];
    for (const message of messages) {
      const match = /^lat-(\\d+) /.exec(message.textContent);
      if (match && !(match[1] in window.__shownAt)) {
        window.__shownAt[match[1]] = performance.timeOrigin + performance.now();
      }
    }
  };
  new MutationObserver((mutations) => {
    for (const mutation of mutations) for (const node of mutation.addedNodes) record(node);
  }).observe(document.querySelector('.bl-rows'), { childList: true, subtree: true });
}
"""


async def open_viewer(browser: Browser, base_url: str, stream_id: str) -> Page:
    """A new tab following `stream_id`, once its websocket is live."""
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(f"{base_url}/{stream_id}?hide=")  # a query string keeps the send panel closed
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    return page


async def health(http: aiohttp.ClientSession, base_url: str) -> dict:
    """The server's /healthz: viewers, entries accepted."""
    async with http.get(f"{base_url}/healthz") as response:
        return await response.json()


async def settled_accepted(http: aiohttp.ClientSession, base_url: str) -> int:
    """Entries the server has accepted, once requests still in flight (wrk stops mid-request) are done."""
    count = (await health(http, base_url))["entries_accepted"]
    while True:
        await asyncio.sleep(0.2)
        again = (await health(http, base_url))["entries_accepted"]
        if again == count:
            return count
        count = again


async def lines_counted(page: Page) -> int:
    """The page's own count of lines received."""
    text = await page.locator(".bl-count").text_content() or ""
    return int(re.sub(r"\D", "", text) or 0)


async def wait_for_count(page: Page, expected: int, timeout_s: float = 30) -> int:
    """Wait until the page has counted `expected` lines (or time runs out); return its count."""
    deadline = time.monotonic() + timeout_s
    while (counted := await lines_counted(page)) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return counted


async def start_latency_observer(page: Page) -> None:
    """Start recording when each `lat-<n>` line appears in the page."""
    await page.evaluate(_LATENCY_OBSERVER)


async def shown_at(page: Page) -> dict[int, float]:
    """Epoch milliseconds at which each `lat-<n>` line first appeared."""
    return {int(number): at for number, at in (await page.evaluate("window.__shownAt")).items()}
