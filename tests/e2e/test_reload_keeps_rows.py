"""A reloaded page gets back the rows it held (up to --max-rows), not only the --history every new
page gets: in order, once each, above what came since, with the filter, and the rows in view kept
in view."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Page, expect

from harness.servers import AppProcess, running_app

from .conftest import open_stream

HISTORY = 20
MAX_ROWS = 150
# The messages of the rows the page holds, oldest first (not only the drawn ones).
HELD = "getElement(document.querySelector('.bl-log')).logRows.all.map((entry) => entry.message)"


@pytest.fixture(scope="module")
def small_history_app() -> Iterator[AppProcess]:
    with running_app("--history", str(HISTORY), "--max-rows", str(MAX_ROWS)) as app:
        yield app


async def post_lines(url: str, lines: list[str]) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for start in range(0, len(lines), 50):
            batch = [{"message": line} for line in lines[start:start + 50]]
            assert (await http.post(url, json=batch)).status_code == 204


async def reload_and_wait(page: Page) -> None:
    await page.reload()
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")


async def test_a_reloaded_page_gets_back_every_row_it_held(page: Page, small_history_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    url = f"{small_history_app.url}/live/{stream}"
    await open_stream(page, small_history_app.url, stream)
    lines = [f"line {n:03d}" for n in range(100)]
    await post_lines(url, lines)
    await expect(page.locator(".bl-count")).to_have_text("100 lines")
    await reload_and_wait(page)
    await expect(page.locator(".bl-count")).to_have_text("100 lines")
    assert await page.evaluate(HELD) == lines
    await expect(page.locator(".bl-message").last).to_have_text("line 099")  # still following
    # And again, with more since: each reload gets back what the page held, once each, in order.
    more = [f"more {n:03d}" for n in range(30)]
    await post_lines(url, more)
    await reload_and_wait(page)
    await expect(page.locator(".bl-count")).to_have_text("130 lines")
    assert await page.evaluate(HELD) == lines + more


async def test_a_reloaded_page_gets_at_most_max_rows(page: Page, small_history_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await open_stream(page, small_history_app.url, stream)
    lines = [f"line {n:03d}" for n in range(MAX_ROWS + 50)]
    await post_lines(f"{small_history_app.url}/live/{stream}", lines)
    await expect(page.locator(".bl-count")).to_have_text(f"{len(lines)} lines")
    await reload_and_wait(page)
    await expect(page.locator(".bl-count")).to_have_text(f"{MAX_ROWS} lines")
    assert await page.evaluate(HELD) == lines[-MAX_ROWS:]


async def test_restored_rows_keep_the_filter(page: Page, small_history_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await open_stream(page, small_history_app.url, f"{stream}?q=even")
    lines = [f"line {n:03d} {'even' if n % 2 == 0 else 'odd'}" for n in range(120)]
    await post_lines(f"{small_history_app.url}/live/{stream}", lines)
    await expect(page.locator(".bl-count")).to_have_text("120 lines")
    await reload_and_wait(page)
    await expect(page.locator(".bl-count")).to_have_text("120 lines")
    assert await page.evaluate(HELD) == lines
    shown = await page.locator(".bl-message").all_inner_texts()
    assert shown and all(text.endswith("even") for text in shown)
    assert await page.evaluate(f"{VIEW}.logRows.shown.length") == 60


VIEW = "getElement(document.querySelector('.bl-log'))"
AFTER_TWO_FRAMES = "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
# The message of the row at the top of the log's viewport.
TOP_ROW = """() => {
  const box = document.querySelector('.bl-scroller').getBoundingClientRect();
  return document.elementFromPoint(box.left + 40, box.top + 30).closest('.bl-row').querySelector('.bl-message')
    .textContent;
}"""


async def test_older_rows_go_above_without_moving_the_rows_in_view_or_resuming(
        page: Page, small_history_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await open_stream(page, small_history_app.url, stream)
    lines = [f"line {n:03d}" for n in range(100)]
    await post_lines(f"{small_history_app.url}/live/{stream}", lines)
    await expect(page.locator(".bl-count")).to_have_text("100 lines")
    await reload_and_wait(page)
    await expect(page.locator(".bl-count")).to_have_text("100 lines")
    # A reader scrolled up into the middle, paused: rows older than all come (as from the server).
    await page.locator(".bl-scroller").evaluate("scroller => { scroller.scrollTop = scroller.scrollHeight / 2; }")
    await page.keyboard.press("Space")
    await expect(page.locator(".bl-paused")).to_be_visible()
    # The scroll's own draw comes with a frame (its event, then the redraw it asks for): read the rows after it.
    await page.evaluate(AFTER_TWO_FRAMES)
    in_view = await page.evaluate(TOP_ROW)
    older = [{"id": f"1-{n}", "ts": 1, "level": "INFO", "program": "p", "message": f"older {n}"} for n in range(10)]
    await page.evaluate(f"older => {VIEW}.prepend(older)", older)  # what a message of older rows calls
    assert await page.evaluate(TOP_ROW) == in_view
    assert (await page.evaluate(HELD))[:11] == [f"older {n}" for n in range(10)] + ["line 000"]
    await post_lines(f"{small_history_app.url}/live/{stream}", ["while paused"])
    await expect(page.locator(".bl-paused")).to_contain_text("1")
    assert "while paused" not in await page.evaluate(HELD)  # still paused: the new line waits


async def test_long_rows_come_back_whole_when_a_page_of_them_takes_several_messages(
        page: Page, small_history_app: AppProcess) -> None:
    # 140 rows of ~1.2 KB: one page of older rows is over 128 KiB, so it goes in several messages.
    stream = str(uuid.uuid4())
    await open_stream(page, small_history_app.url, stream)
    lines = [f"line {n:03d} " + "x" * 1200 for n in range(140)]
    await post_lines(f"{small_history_app.url}/live/{stream}", lines)
    await expect(page.locator(".bl-count")).to_have_text("140 lines")
    await reload_and_wait(page)
    await expect(page.locator(".bl-count")).to_have_text("140 lines")
    assert await page.evaluate(HELD) == lines


async def test_a_resume_the_server_did_not_ask_for_sends_nothing_again(page: Page,
                                                                      small_history_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await open_stream(page, small_history_app.url, stream)
    lines = [f"line {n:03d}" for n in range(30)]
    await post_lines(f"{small_history_app.url}/live/{stream}", lines)
    await expect(page.locator(".bl-count")).to_have_text("30 lines")
    for _ in range(5):  # a page asking to be sent everything again, with its socket never dropped
        await page.evaluate(f"{VIEW}.$emit('resume', {{after: '0-0'}})")
    await post_lines(f"{small_history_app.url}/live/{stream}", ["after"])
    await expect(page.locator(".bl-count")).to_have_text("31 lines")
    assert await page.evaluate(HELD) == [*lines, "after"]
