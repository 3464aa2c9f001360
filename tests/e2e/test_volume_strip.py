"""The volume strip in a real browser: bars of lines per interval by level over the rows held (older
lines loaded at the top too), live, bright for what the filter shows; a bar clicked (or chosen with the
keys) scrolls to its first row and pauses; hidden with a toggle kept in the URL; theme-aware."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Page, expect

from dashboard.protocol import view_key
from harness.servers import AppProcess

from .conftest import E2E_HISTORY, open_stream

WAIT_S = 15.0
CANVAS = ".bl-strip-canvas"
VIEW = "getElement(document.querySelector('.bl-log'))"
GROUPS = ("error", "warning", "info", "debug")


def new_stream() -> str:
    return str(uuid.uuid4())


async def post(http: httpx.AsyncClient, app: AppProcess, stream: str, *entries: dict[str, Any]) -> None:
    response = await http.post(f"{app.url}/live/{stream}", json=list(entries))
    assert response.status_code == 204, response.text


def lines(prefix: str, count: int, level: str = "info") -> list[dict[str, Any]]:
    return [{"message": f"{prefix} {n:03d}", "level": level} for n in range(count)]


async def strip_data(page: Page) -> dict[str, Any]:
    raw = await page.locator(CANVAS).get_attribute("data-bars")
    return json.loads(raw) if raw else {"step": 1, "bars": []}


def totals(data: dict[str, Any], part: str) -> list[int]:
    return [sum(bar[part][group] for bar in data["bars"]) for group in range(len(GROUPS))]


async def wait_for_strip(page: Page, held: list[int], shown: list[int] | None = None) -> dict[str, Any]:
    """Wait until the strip's bars add up to `held` lines per level group (and `shown`, if given)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        data = await strip_data(page)
        if totals(data, "held") == held and (shown is None or totals(data, "shown") == shown):
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"the strip holds {totals(data, 'held')} / shows {totals(data, 'shown')}, "
                                 f"not {held} / {shown}: {data}")
        await asyncio.sleep(0.1)


async def click_bar(page: Page, bar: dict[str, Any]) -> None:
    box = await page.locator(CANVAS).bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + bar["x"], box["y"] + box["height"] - 3)


def bar_of(data: dict[str, Any], ms: int) -> dict[str, Any]:
    step_ms = data["step"] * 1000
    return next(bar for bar in data["bars"] if bar["start"] <= ms < bar["start"] + step_ms)


async def first_id_ms(page: Page, message: str) -> int:
    ms: int = await page.evaluate(
        f"(message) => Number({VIEW}.logRows.all.find((entry) => entry.message === message).id.split('-')[0])", message)
    return ms


# The message of the row at the top of the log's scroller.
TOP_ROW = """() => {
  const top = document.querySelector('.bl-scroller').getBoundingClientRect().top;
  const row = [...document.querySelectorAll('.bl-row')].find((row) => row.getBoundingClientRect().bottom > top + 1);
  return row ? row.querySelector('.bl-message').textContent : null;
}"""


async def expect_top_row(page: Page, message: str) -> None:
    await page.wait_for_function(f"() => ({TOP_ROW})() === {json.dumps(message)}", timeout=WAIT_S * 1000)


# --- counts -----------------------------------------------------------------------------------------

async def test_the_bars_count_the_lines_per_level_group_live_and_what_the_filter_shows(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await expect(page.locator(".bl-strip")).to_be_visible()
    await post(http, app_server, stream, *lines("boom", 3, "error"), *lines("fatal", 1, "critical"),
               *lines("careful", 2, "warning"), *lines("fine", 5, "info"), *lines("custom", 1, "NOTICE"),
               *lines("own", 1, "AUDIT"), *lines("noise", 4, "debug"), *lines("finer", 1, "TRACE"))
    data = await wait_for_strip(page, held=[4, 2, 7, 5], shown=[4, 2, 7, 5])
    assert data["step"] == 1 and 1 <= len(data["bars"]) <= 2
    # The hover tip says the bar's time range and its counts.
    await page.locator(CANVAS).hover(position={"x": data["bars"][-1]["x"], "y": 20})
    tip = page.locator(".bl-strip-tip")
    await expect(tip).to_be_visible()
    await expect(tip).to_have_text(re.compile(r"^\d\d:\d\d:\d\d\u2013\d\d:\d\d:\d\d: "))
    await expect(tip).to_contain_text("error")
    # Live: new lines are counted as they come.
    await post(http, app_server, stream, *lines("again", 2, "error"))
    await wait_for_strip(page, held=[6, 2, 7, 5])
    # The filter: all lines held still count (faint), those it shows count apart (bright).
    await page.locator(".bl-filter-input input").fill("o")  # boom, custom, own, noise
    await wait_for_strip(page, held=[6, 2, 7, 5], shown=[3, 0, 2, 4])
    await expect(tip).to_contain_text("shown)")


async def test_the_strip_counts_the_older_lines_loaded_at_the_top(page: Page, app_server: AppProcess,
                                                                  http: httpx.AsyncClient) -> None:
    stream = new_stream()
    older = E2E_HISTORY // 5
    await post(http, app_server, stream, *lines("early", older, "error"), *lines("later", E2E_HISTORY))
    await open_stream(page, app_server.url, stream)
    await wait_for_strip(page, held=[0, 0, E2E_HISTORY, 0])  # the history: the newest lines only
    await page.locator(".bl-scroller").evaluate("scroller => { scroller.scrollTop = 0; }")
    await page.locator(".bl-scroller").hover()
    await page.mouse.wheel(0, -300)
    await wait_for_strip(page, held=[older, 0, E2E_HISTORY, 0])


# --- going to a bar -----------------------------------------------------------------------------------

async def test_clicking_a_bar_scrolls_to_its_first_row_and_pauses(page: Page, app_server: AppProcess,
                                                                  http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, *lines("a", 100))
    await asyncio.sleep(1.2)  # the next lines arrive in a later second: another bar
    await post(http, app_server, stream, *lines("b", 100, "warning"))
    await asyncio.sleep(1.2)
    await post(http, app_server, stream, *lines("c", 60))
    data = await wait_for_strip(page, held=[0, 100, 160, 0])
    assert len(data["bars"]) >= 3
    await expect(page.locator(".bl-message").last).to_have_text("c 059")  # following the newest
    await click_bar(page, bar_of(data, await first_id_ms(page, "b 000")))
    await expect_top_row(page, "b 000")
    await expect(page.locator(".bl-pause")).to_contain_text("Resume")
    await expect(page.locator(".bl-jump")).to_be_visible()
    # Paused: what comes now waits, and the rows in view stay.
    await post(http, app_server, stream, *lines("d", 5))
    await expect(page.locator(".bl-paused")).to_have_text("paused · 5 new")
    await expect_top_row(page, "b 000")
    # With a filter, a bar goes to the first row the filter shows from its interval on.
    await page.locator(".bl-filter-input input").fill("a 05")
    data = await wait_for_strip(page, held=[0, 100, 160, 0], shown=[0, 0, 10, 0])
    await click_bar(page, bar_of(data, await first_id_ms(page, "a 000")))
    await expect(page.locator(".bl-message").first).to_have_text("a 050")
    await expect(page.locator(".bl-pause")).to_contain_text("Resume")  # still paused, not resumed


async def test_the_keys_choose_a_bar_and_enter_goes_to_it(page: Page, app_server: AppProcess,
                                                          http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, *lines("a", 100, "error"))
    await asyncio.sleep(1.2)
    await post(http, app_server, stream, *lines("b", 100))
    data = await wait_for_strip(page, held=[100, 0, 100, 0])
    canvas = page.locator(CANVAS)
    await canvas.focus()
    await expect(canvas).to_have_attribute("aria-valuenow", str(len(data["bars"]) - 1 if data["bars"] else 0))
    newest = int(await canvas.get_attribute("aria-valuenow") or 0)
    await page.keyboard.press("Home")  # the strip's, not the log's (which would go to the oldest row)
    await expect(canvas).to_have_attribute("aria-valuenow", "0")
    await expect(canvas).to_have_attribute("aria-valuetext", re.compile(r"\d+ error"))
    await expect(page.locator(".bl-strip-tip")).to_be_visible()
    await expect(page.locator(".bl-pause")).to_contain_text("Pause")
    await page.keyboard.press("Enter")
    await expect_top_row(page, "a 000")
    await expect(page.locator(".bl-pause")).to_contain_text("Resume")
    await page.keyboard.press("End")
    await expect(canvas).to_have_attribute("aria-valuenow", str(newest))
    await page.keyboard.press("Space")  # goes to the bar, as Enter does (and does not resume)
    newest_start = (await strip_data(page))["bars"][-1]["start"]
    expected = await page.evaluate(
        f"(start) => {VIEW}.logRows.shown.find((entry) => Number(entry.id.split('-')[0]) >= start).message",
        newest_start)
    assert expected.startswith("b ")
    await expect_top_row(page, expected)
    await expect(page.locator(".bl-pause")).to_contain_text("Resume")


# --- showing and hiding ---------------------------------------------------------------------------------

def strip_param(page: Page) -> list[str] | None:
    return parse_qs(urlsplit(page.url).query).get("strip")


async def test_the_toggle_hides_the_strip_and_the_url_keeps_it(page: Page, app_server: AppProcess,
                                                               http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await post(http, app_server, stream, *lines("x", 5, "error"))
    await open_stream(page, app_server.url, f"{stream}?q=x")
    await wait_for_strip(page, held=[5, 0, 0, 0])
    toggle = page.get_by_role("button", name="Hide the volume strip")
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    await toggle.click()
    await expect(page.locator(".bl-strip")).to_be_hidden()
    await expect(page.locator(".bl-strip-toggle")).to_have_attribute("aria-pressed", "false")
    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("strip") == ["0"])
    assert parse_qs(urlsplit(page.url).query)["q"] == ["x"]  # the other parameters stay
    await page.reload()
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-message")).to_have_count(5)
    await expect(page.locator(".bl-strip")).to_be_hidden()
    await post(http, app_server, stream, *lines("x while hidden", 2, "warning"))
    await expect(page.locator(".bl-message")).to_have_count(7)
    await page.get_by_role("button", name="Show the volume strip (lines per interval)").click()
    await expect(page.locator(".bl-strip")).to_be_visible()
    await wait_for_strip(page, held=[5, 2, 0, 0])  # counted when shown again
    await page.wait_for_url(lambda url: "strip" not in parse_qs(urlsplit(url).query))
    # Odd values are read leniently: only 0/false/no/off hide it.
    await open_stream(page, app_server.url, f"{stream}?strip=%3Cb%3E")
    await expect(page.locator(".bl-strip")).to_be_visible()


async def test_the_strip_follows_the_theme_and_fits_the_window(page: Page, app_server: AppProcess,
                                                               http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await page.emulate_media(color_scheme="light")
    await page.set_viewport_size({"width": 420, "height": 800})
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, *lines("boom", 20, "error"))
    data = await wait_for_strip(page, held=[20, 0, 0, 0])
    pixel = f"""() => {{
      const canvas = document.querySelector('{CANVAS}');
      const ratio = canvas.width / canvas.clientWidth;
      return Array.from(canvas.getContext('2d').getImageData(
        Math.floor({data["bars"][-1]["x"]} * ratio), canvas.height - 2, 1, 1).data);
    }}"""
    light = await page.evaluate(pixel)
    assert light[3] > 0 and light[0] > light[2], light  # a red bar
    await page.locator(".bl-theme").click()  # auto → dark
    await expect(page.locator("body")).to_have_class(re.compile("body--dark"))
    await page.wait_for_function(f"() => JSON.stringify(({pixel})()) !== {json.dumps(json.dumps(light))}")
    box = await page.locator(".bl-strip").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 420
    assert await page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    # A window too low to spare the height shows no strip; the rows keep it.
    await page.set_viewport_size({"width": 1400, "height": 480})
    await expect(page.locator(".bl-strip")).to_be_hidden()
    await page.set_viewport_size({"width": 1400, "height": 700})
    await expect(page.locator(".bl-strip")).to_be_visible()
    # Drawn again across the wider strip: the newest bar at its right.
    await page.wait_for_function(f"JSON.parse(document.querySelector('{CANVAS}').dataset.bars).bars.at(-1).x > 1000")


async def test_the_read_only_page_has_the_strip(page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    write = new_stream()
    await post(http, app_server, write, *lines("seen", 3, "warning"))
    await open_stream(page, app_server.url, view_key(write))
    data = await wait_for_strip(page, held=[0, 3, 0, 0])
    await post(http, app_server, write, *lines("more", 60))
    data = await wait_for_strip(page, held=[0, 3, 60, 0])
    await click_bar(page, data["bars"][0])
    await expect(page.locator(".bl-pause")).to_contain_text("Resume")
    await expect_top_row(page, "seen 000")
