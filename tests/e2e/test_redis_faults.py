"""What a reader sees when Redis fails under the server: an outage while lines flow, and restarts with
and without persistence."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from pathlib import Path

import httpx
import orjson
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from dashboard.bus.redis_keys import stream_key
from dashboard.client import BunnyLogsHandler
from dashboard.protocol import bus_stream_id
from harness.servers import running_app, running_redis

from .conftest import open_stream

OUTAGE_S = 30  # issue 14: Redis away for 30 s ...
LINES_PER_SECOND = 100  # ... while a handler sends 100 lines a second
UNAVAILABLE = "log bus unavailable — reconnecting…"
LOST = "Redis restarted without its data"
WAIT_MS = 20_000  # generous: other test runs share this machine's two cores


class LineSender:
    """A `BunnyLogsHandler` fed `LINES_PER_SECOND` numbered lines from a thread, until stopped."""

    def __init__(self, url: str) -> None:
        self.handler = BunnyLogsHandler(url, program="outage")
        self.logger = logging.getLogger(f"test.outage.{uuid.uuid4().hex[:8]}")
        self.logger.propagate = False
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)
        self.sent: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            message = f"line {len(self.sent):05d}"
            self.logger.info(message)
            self.sent.append(message)
            next_at += 1 / LINES_PER_SECOND
            time.sleep(max(0.0, next_at - time.monotonic()))

    def stop(self) -> bool:
        """Stop making lines; whether every line was delivered within 30 s."""
        self._stop.set()
        self._thread.join()
        delivered = self.handler.flush(timeout=30)
        self.logger.removeHandler(self.handler)
        self.handler.close()
        return delivered


async def stored_messages(redis_url: str, stream: str) -> list[str]:
    """Every message Redis holds for `stream`, in ID order."""
    admin = Redis.from_url(redis_url)
    try:
        rows = await admin.xrange(stream_key(bus_stream_id(stream)))
    finally:
        await admin.aclose()
    return [json.loads(fields[b"e"])["message"] for _, fields in rows]


async def shown_messages(page: Page) -> list[str]:
    """Every row the page holds, in its order, as its own download gives them."""
    await page.locator(".bl-download").click()
    async with page.expect_download() as download_info:
        await page.locator(".bl-download-ndjson").click()
    lines = Path(await (await download_info.value).path()).read_text(encoding="utf-8").splitlines()
    return [orjson.loads(line)["message"] for line in lines]


async def test_an_outage_shows_on_the_open_page_which_recovers_with_every_line_once_in_order(
        page: Page, second_page: Page, tmp_path: Path) -> None:
    with running_redis(data_dir=tmp_path) as redis, running_app("--redis-url", redis.url) as app:
        stream = str(uuid.uuid4())
        await open_stream(page, app.url, stream)
        state = page.locator(".bl-state")
        await expect(state).to_have_text("connected")
        sender = LineSender(f"{app.url}/live/{stream}")
        sender.start()
        try:
            await expect(page.locator(".bl-message").first).to_have_text("line 00000", timeout=WAIT_MS)
            await page.evaluate("window.sameDocument = true")  # gone if the page reloads
            await asyncio.to_thread(redis.stop)
            stopped = time.monotonic()
            await expect(state).to_have_text(UNAVAILABLE, timeout=5_000)
            await expect(state).to_have_attribute("data-state", "bus-unavailable")
            assert await state.evaluate("e => getComputedStyle(e, '::before').color") != "rgb(22, 163, 74)", \
                "the dot is not green"
            async with httpx.AsyncClient(timeout=10) as http:
                refused = await http.post(f"{app.url}/live/{stream}", data={"message": "during the outage"})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1", refused.text
            # A page opened during the outage says so too, and follows once Redis is back.
            await open_stream(second_page, app.url, stream)
            await expect(second_page.locator(".bl-state")).to_have_text(UNAVAILABLE, timeout=5_000)
            await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
            await expect(state).to_have_text(UNAVAILABLE)  # still, all along
            await asyncio.to_thread(redis.start)  # its append-only file kept every acknowledged line
            await expect(state).to_have_text("connected", timeout=WAIT_MS)
            await expect(second_page.locator(".bl-state")).to_have_text("connected", timeout=WAIT_MS)
        finally:
            delivered = await asyncio.to_thread(sender.stop)
        assert delivered, "the handler still held lines 30 s after the outage"
        expected = sender.sent
        assert len(expected) >= OUTAGE_S * LINES_PER_SECOND
        assert await stored_messages(redis.url, stream) == expected, "each line stored once, in order"
        await page.wait_for_function(
            f"document.querySelector('.bl-count').textContent.replace(/\\D/g, '') === '{len(expected)}'",
            timeout=WAIT_MS)
        assert await shown_messages(page) == expected, "each line shown once, in order, without a reload"
        assert await page.evaluate("window.sameDocument === true"), "the page recovered without a reload"
        await expect(second_page.locator(".bl-message").last).to_have_text(expected[-1], timeout=WAIT_MS)
        late = await shown_messages(second_page)
        assert late == expected[-len(late):], "the late page: its history, then the live lines, each once"


async def test_with_persistence_a_restart_keeps_the_history_a_new_page_shows(
        page: Page, tmp_path: Path) -> None:
    with running_redis(data_dir=tmp_path) as redis, running_app("--redis-url", redis.url) as app, \
            httpx.Client(timeout=10) as http:
        stream = str(uuid.uuid4())
        posted = http.post(f"{app.url}/live/{stream}", json=[{"message": f"kept {n}"} for n in range(3)])
        assert posted.status_code == 204
        await asyncio.to_thread(redis.stop)
        await asyncio.to_thread(redis.start)
        await open_stream(page, app.url, stream)
        await expect(page.locator(".bl-message")).to_have_text(["kept 0", "kept 1", "kept 2"])
        await expect(page.locator(".bl-state")).to_have_text("connected")
        await expect(page.get_by_text(LOST)).to_have_count(0)


async def test_without_persistence_open_and_new_pages_say_the_history_is_gone_and_new_lines_arrive(
        page: Page, second_page: Page, http: httpx.AsyncClient) -> None:
    with running_redis() as redis, running_app("--redis-url", redis.url) as app:
        stream = str(uuid.uuid4())
        await open_stream(page, app.url, stream)
        assert (await http.post(f"{app.url}/live/{stream}", data={"message": "before"})).status_code == 204
        await expect(page.locator(".bl-message")).to_have_text(["before"])
        await asyncio.to_thread(redis.stop)
        await asyncio.to_thread(redis.start)  # empty
        notice = page.locator(".bl-restart-notice")
        await expect(notice).to_contain_text(LOST, timeout=WAIT_MS)
        await expect(notice).to_contain_text(" UTC are gone")
        await expect(page.locator(".bl-state")).to_have_text("connected", timeout=WAIT_MS)
        assert (await http.post(f"{app.url}/live/{stream}", data={"message": "after"})).status_code == 204
        # The page keeps what it showed, says why Redis no longer has it, and takes new lines.
        await expect(page.locator(".bl-message")).to_have_text(["before", "after"])
        await open_stream(second_page, app.url, stream)
        await expect(second_page.locator(".bl-restart-notice")).to_contain_text(LOST, timeout=WAIT_MS)
        await expect(second_page.locator(".bl-message")).to_have_text(["after"])
