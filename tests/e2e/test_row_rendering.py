"""How a row and the status bar read to a new user: the copy button, the rate, pause counts, unsafe
characters, dates and ANSI colours."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
import uuid
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from harness.servers import AppProcess, running_app

from .conftest import download, open_stream, pause

WAIT_MS = 20_000  # generous: other test runs share this machine's two cores


def new_stream() -> str:
    return str(uuid.uuid4())


async def post(http: httpx.AsyncClient, app: AppProcess, stream: str, *entries: dict) -> None:
    response = await http.post(f"{app.url}/live/{stream}", json=list(entries))
    assert response.status_code == 204, response.text


# --- the copy button -------------------------------------------------------------------------------

_BOX = """(element) => { const box = element.getBoundingClientRect();
  return {left: box.left, top: box.top, right: box.right, bottom: box.bottom}; }"""
COPY_BUTTON_LOOK = """button => ({
  text: button.textContent,
  label: button.getAttribute("aria-label"),
  icon: getComputedStyle(button, "::before").maskImage || getComputedStyle(button, "::before").webkitMaskImage,
  opacity: getComputedStyle(button).opacity,
  visibility: getComputedStyle(button).visibility,
  iconContent: getComputedStyle(button, "::before").content,
})"""


async def test_the_copy_button_is_an_icon_with_a_label_and_says_when_it_copied(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, {"message": "copy me", "fields": {"n": 1}}, {"message": "and me"})
    await expect(page.locator(".bl-row")).to_have_count(2)
    # With a mouse, a row's buttons are made when the pointer comes: new rows are cheaper to draw.
    await expect(page.locator(".bl-copy, .bl-link")).to_have_count(0)
    line_before = await page.locator(".bl-row").first.locator(".bl-message").evaluate(_BOX)
    await page.locator(".bl-row").first.hover()
    button = page.locator(".bl-copy")
    await expect(button).to_have_count(1)
    look = await button.evaluate(COPY_BUTTON_LOOK)
    assert look["text"] == "", "the icon must not be drawn from words"
    assert look["label"] == "Copy this line"
    assert "svg" in look["icon"]
    await expect(button).to_have_css("opacity", "1")
    assert (await button.evaluate(COPY_BUTTON_LOOK))["iconContent"] == '""'
    # Their coming moves nothing in the row, and they lie beside its text, not over it.
    assert await page.locator(".bl-row").first.locator(".bl-message").evaluate(_BOX) == line_before
    after_text = await page.locator(".bl-row").first.locator(".bl-fields").evaluate(_BOX)
    for each in (button, page.locator(".bl-link")):
        box = await each.evaluate(_BOX)
        assert box["left"] >= after_text["right"] and box["top"] >= line_before["top"] - 4, (box, after_text)
        assert box["bottom"] <= line_before["bottom"] + 4, (box, line_before)
    # Once the pointer left, they wait hidden, their icons not made (nor painted, nor laid out).
    await page.locator(".bl-status").hover()
    await expect(button).to_have_css("opacity", "0")
    assert (await button.evaluate(COPY_BUTTON_LOOK))["iconContent"] == "none"
    await page.locator(".bl-row").first.hover()
    await button.click()
    await expect(button).to_have_attribute("aria-label", "Copied")
    assert "copy me" in await page.evaluate("navigator.clipboard.readText()")
    await expect(button).to_have_attribute("aria-label", "Copy this line", timeout=WAIT_MS)
    await context.close()


async def test_the_copy_button_reached_by_the_keyboard_shows_its_icon(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, {"message": "reach me with the keys"})
    await expect(page.locator(".bl-row")).to_have_count(1)
    await tab_to_the_log(page)
    await page.keyboard.press("ArrowDown")  # to a row in view
    await expect(page.locator(".bl-row")).to_be_focused()
    await page.keyboard.press("Tab")  # to its buttons
    button = page.locator(".bl-copy")
    await expect(button).to_be_focused()
    look = await button.evaluate(COPY_BUTTON_LOOK)
    assert (look["opacity"], look["iconContent"]) == ("1", '""'), look


async def tab_to_the_log(page: Page) -> None:
    """Press Tab until the log (its scrolling box) has the focus."""
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.classList.contains('bl-scroller')"):
            return
    pytest.fail("Tab never reached the log")


# Whether the row of this message is whole in the log's view (the view scrolls to the newest row in the
# frame after it is drawn).
_IN_VIEW = """(message) => {
  const row = [...document.querySelectorAll('.bl-row')].find((each) =>
    each.querySelector('.bl-message').textContent === message);
  if (!row) return false;
  const view = document.querySelector('.bl-scroller').getBoundingClientRect(), box = row.getBoundingClientRect();
  return box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
}"""


async def test_the_log_is_one_stop_of_tab_and_the_arrow_keys_go_from_row_to_row(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    """Each row a stop of Tab, a following log was thousands of stops, and Tab into it landed on a row
    drawn above the view, scrolled to it and stopped following."""
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, *[{"message": f"line {n}"} for n in range(100)])
    await expect(page.locator(".bl-count")).to_have_text("100 lines")
    await page.wait_for_function(_IN_VIEW, arg="line 99")
    await tab_to_the_log(page)
    await page.keyboard.press("Tab")  # and out of it at once: no row is a stop of Tab
    assert not await page.evaluate("document.activeElement.closest('.bl-log')"), "Tab stayed in the log"
    await page.keyboard.press("Shift+Tab")
    await expect(page.locator(".bl-scroller")).to_be_focused()
    await expect(page.locator(".bl-jump")).to_be_hidden()  # still following
    await page.keyboard.press("ArrowUp")  # the newest row in view, then the one above
    await expect(page.locator(".bl-row", has_text="line 99")).to_be_focused()
    await page.keyboard.press("ArrowUp")
    await expect(page.locator(".bl-row", has_text="line 98")).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(page.locator(".bl-row", has_text="line 99")).to_be_focused()
    # Only the focused row's buttons are stops of Tab: those made for the rows the focus passed are not.
    for key in ["ArrowUp"] * 5 + ["ArrowDown"] * 2:
        await page.keyboard.press(key)
    await expect(page.locator(".bl-row", has_text="line 96")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.locator(".bl-row", has_text="line 96").locator(".bl-copy")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.locator(".bl-row", has_text="line 96").locator(".bl-link")).to_be_focused()
    await page.keyboard.press("Tab")
    assert not await page.evaluate("document.activeElement.closest('.bl-rows')"), "Tab went on through the rows"
    # Scrolled away from the focused row (the wheel), the arrows go on from the rows in view: the view stays.
    await page.keyboard.press("Shift+Tab")  # back to the log: its one stop
    await expect(page.locator(".bl-scroller")).to_be_focused()
    await page.keyboard.press("ArrowUp")
    before = await page.evaluate("document.activeElement.querySelector('.bl-message').textContent")
    top = await page.locator(".bl-scroller").evaluate("(scroller) => (scroller.scrollTop -= 200)")  # the wheel
    await page.wait_for_timeout(100)
    await page.keyboard.press("ArrowUp")
    after = await page.evaluate("document.activeElement.querySelector('.bl-message').textContent")
    assert int(after.split()[1]) < int(before.split()[1]) - 5, (before, after)
    assert abs(await page.locator(".bl-scroller").evaluate("(scroller) => scroller.scrollTop") - top) < 30


async def test_a_focused_row_that_scrolls_out_while_following_leaves_the_focus_on_the_log(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    """The page's body took the focus: the arrow keys then did nothing in the log."""
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, *[{"message": f"line {n}"} for n in range(30)])
    await page.wait_for_function(_IN_VIEW, arg="line 29")
    await tab_to_the_log(page)
    await page.keyboard.press("ArrowDown")  # the newest row in view; the log still follows
    await expect(page.locator(".bl-row", has_text="line 29")).to_be_focused()
    for start in range(30, 330, 30):
        await post(http, app_server, stream, *[{"message": f"line {n}"} for n in range(start, start + 30)])
        await expect(page.locator(".bl-message").last).to_have_text(f"line {start + 29}")
    await expect(page.locator(".bl-row", has_text="line 29")).to_have_count(0)  # no longer drawn
    await expect(page.locator(".bl-scroller")).to_be_focused()
    await page.keyboard.press("ArrowUp")  # the keys go on from there (to a row in view: a busy machine may
    await expect(page.locator(".bl-row:focus")).to_have_count(1)  # not have scrolled to the newest yet)


async def test_enter_on_a_row_with_the_keyboard_s_focus_opens_it_and_it_keeps_the_focus(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, {"message": "Traceback (most recent call last):\n  File \"a.py\"",
                                          "program": "web", "fields": {"n": 1}})
    row = page.locator(".bl-row")
    await expect(row).to_have_count(1)
    await tab_to_the_log(page)
    await page.keyboard.press("ArrowUp")
    await expect(row).to_be_focused()
    await expect(page.get_by_role("treeitem")).to_have_attribute("aria-expanded", "false")  # what a reader hears
    # and the row's name: its texts, not its toggle's sign, its `{…}` or its buttons' labels
    await expect(row).to_have_accessible_name(re.compile(
        r"^\d\d:\d\d:\d\d\.\d{3} INFO web Traceback \(most recent call last\): \+1 lines \(with fields\)$"))
    await page.keyboard.press("Enter")
    await expect(page.locator(".bl-row.bl-open")).to_have_count(1)
    await expect(page.locator(".bl-row.bl-open")).to_be_focused()  # drawn again, it kept the focus
    await expect(page.get_by_role("tree", name="Log lines").get_by_role("treeitem")).to_have_attribute(
        "aria-expanded", "true")
    await page.keyboard.press("Tab")  # on to its buttons
    await expect(page.locator(".bl-row.bl-open .bl-copy")).to_be_focused()
    await page.keyboard.press("Shift+Tab")  # back to the row (no stop of Tab itself: not to the log)
    await expect(page.locator(".bl-row.bl-open")).to_be_focused()
    await page.keyboard.press("Shift+Tab")  # and from the row, out to the log
    await expect(page.locator(".bl-scroller")).to_be_focused()
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("Enter")
    await expect(page.locator(".bl-row.bl-open")).to_have_count(0)
    await expect(row).to_be_focused()


async def test_copying_without_the_clipboard_api_keeps_the_focus_and_says_when_the_browser_refused(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    """Served over plain HTTP on a host name, a page has no clipboard API: the fallback's hidden text box
    took the focus, and left it on the page's body; and "Copied" showed when nothing was copied."""
    await page.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined })")
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, {"message": "copy me"})
    row = page.locator(".bl-row")
    await expect(row).to_have_count(1)
    await tab_to_the_log(page)
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("Tab")
    copy = row.locator(".bl-copy")
    await expect(copy).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(copy).to_have_attribute("aria-label", "Copied")
    await expect(copy).to_be_focused()
    await page.keyboard.press("Tab")  # on from where the focus was: the link button, not the page's top
    link = row.locator(".bl-link")
    await expect(link).to_be_focused()
    await page.evaluate("document.execCommand = () => false")  # the browser refuses
    await page.keyboard.press("Enter")
    await expect(link).to_have_attribute("aria-label", "Not copied: the browser refused")
    await expect(link).to_be_focused()
    assert await link.evaluate("(button) => getComputedStyle(button).color") == "rgb(220, 38, 38)"
    await expect(link).to_have_attribute("aria-label", "Copy a link to this line")  # and back, a moment later
    await page.locator(".bl-copy-button", has_text="Copy read-only link").click()
    await expect(page.locator(".bl-copy-button", has_text="Not copied")).to_have_count(1)


async def test_the_copy_button_is_shown_without_hover_on_a_touch_screen(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    context = await browser.new_context(has_touch=True, is_mobile=True, viewport={"width": 820, "height": 900})
    page = await context.new_page()
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, {"message": "tap to copy"})
    button = page.locator(".bl-copy")
    await expect(button).to_have_count(1)
    look = await button.evaluate(COPY_BUTTON_LOOK)
    assert (look["opacity"], look["visibility"], look["iconContent"]) == ("1", "visible", '""')
    row_box, button_box = await page.locator(".bl-row").bounding_box(), await button.bounding_box()
    assert row_box and button_box and button_box["x"] + button_box["width"] <= row_box["x"] + row_box["width"]
    # Every row has its buttons here, but they are no stops of Tab (Tab landed on those of a row drawn
    # above the view, scrolled to it and stopped following): the log is one.
    await tab_to_the_log(page)
    await page.keyboard.press("Tab")
    assert not await page.evaluate("document.activeElement.closest('.bl-rows')"), "Tab went on through the rows"
    # A focused row's buttons take Tab in the order they are drawn, left to right (the link icon was drawn
    # left of the copy icon and came after it).
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("ArrowUp")
    await expect(page.locator(".bl-row")).to_be_focused()
    lefts = []
    for _ in range(2):
        await page.keyboard.press("Tab")
        lefts.append(await page.evaluate("document.activeElement.getBoundingClientRect().left"))
    assert await page.evaluate("document.activeElement.closest('.bl-row') !== null")
    assert lefts[0] < lefts[1], lefts
    await context.close()


# Each button of the rows under "Jump to latest" that the pill would cover, as [row's message, the element
# a click at the button's centre reaches is the button].
_BUTTONS_UNDER_THE_PILL = """() => {
  const pill = document.querySelector('.bl-jump').getBoundingClientRect();
  return [...document.querySelectorAll('.bl-row')].filter((row) => {
    const box = row.getBoundingClientRect();
    return box.bottom > pill.top && box.top < pill.bottom;
  }).flatMap((row) => [...row.querySelectorAll('.bl-copy, .bl-link')].map((button) => {
    const box = button.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return [row.querySelector('.bl-message').textContent, button === hit || button.contains(hit)];
  }));
}"""


JUMP_SIZES = [(1400, 700, False), (1024, 700, False), (820, 900, True), (360, 640, True)]


@pytest.mark.parametrize(("width", "height", "touch"), JUMP_SIZES,
                         ids=[f"{w}x{h}{'-touch' if touch else ''}" for w, h, touch in JUMP_SIZES])
async def test_jump_to_latest_leaves_the_bottom_rows_buttons_free(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int,
        touch: bool) -> None:
    context = await browser.new_context(has_touch=touch, is_mobile=touch, viewport={"width": width, "height": height})
    page = await context.new_page()
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, *[{"message": f"line {n} " + "words " * 40} for n in range(60)])
    await expect(page.locator(".bl-count")).to_have_text("60 lines")
    await page.locator(".bl-scroller").evaluate("(scroller) => scroller.scrollBy(0, -300)")
    await expect(page.locator(".bl-jump")).to_be_visible()
    pill = await page.locator(".bl-jump").bounding_box()
    assert pill
    bottom_rows = page.locator(".bl-row").filter(has=page.locator(".bl-message"))
    if not touch:  # a row's buttons are made when the pointer comes to it
        for index in range(await bottom_rows.count()):
            row_box = await bottom_rows.nth(index).bounding_box()
            if row_box and row_box["y"] + row_box["height"] > pill["y"] and row_box["y"] < pill["y"] + pill["height"]:
                await page.mouse.move(row_box["x"] + 20, row_box["y"] + row_box["height"] / 2)
                await bottom_rows.nth(index).locator(".bl-copy").wait_for()
    hits = await page.evaluate(_BUTTONS_UNDER_THE_PILL)
    assert hits and all(free for _, free in hits), hits
    await context.close()


TOUCH_SIZES = [(1024, 700), (844, 390), (820, 900), (390, 800)]

# Each collapsed row has the one height the virtual list measured, and starts where the one above ends.
_ROWS_ALIKE_AND_CONTIGUOUS = """() => {
  const boxes = [...document.querySelectorAll('.bl-row:not(.bl-open)')].map((row) => row.getBoundingClientRect());
  return boxes.length > 2 && boxes.every((box, i) => Math.abs(box.height - boxes[0].height) < 0.5
    && (i === 0 || Math.abs(box.top - boxes[i - 1].bottom) < 1));
}"""


@pytest.mark.parametrize(("width", "height"), TOUCH_SIZES, ids=[f"{w}x{h}" for w, h in TOUCH_SIZES])
async def test_the_copy_button_is_big_enough_to_tap_on_a_touch_screen(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int) -> None:
    context = await browser.new_context(has_touch=True, is_mobile=True, viewport={"width": width, "height": height})
    page = await context.new_page()
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, *[{"message": f"tap {i} " + "words " * 30} for i in range(20)])
    await expect(page.locator(".bl-shown")).to_have_text("20 shown", timeout=WAIT_MS)
    await page.wait_for_function(_ROWS_ALIKE_AND_CONTIGUOUS, timeout=WAIT_MS)
    rows = page.locator(".bl-row")
    for index in (0, await rows.count() - 1):
        row = rows.nth(index)
        row_box, button_box = await row.bounding_box(), await row.locator(".bl-copy").bounding_box()
        message_box = await row.locator(".bl-message").bounding_box()
        assert row_box and button_box and message_box
        assert button_box["width"] >= 32 and button_box["height"] >= 32, button_box
        # Inside its own row (a tap never reaches a neighbour's button), and clear of the message.
        assert row_box["y"] <= button_box["y"]
        assert button_box["y"] + button_box["height"] <= row_box["y"] + row_box["height"]
        assert button_box["x"] + button_box["width"] <= row_box["x"] + row_box["width"] + 0.5
        assert message_box["x"] + message_box["width"] <= button_box["x"] + 0.5, (message_box, button_box)
    # The icon keeps its size: the hit area is padding.
    icon = await rows.first.locator(".bl-copy").evaluate(
        "(button) => [getComputedStyle(button, '::before').width, getComputedStyle(button).fontSize].map(parseFloat)")
    assert abs(icon[0] - 1.2 * icon[1]) < 1, icon
    await rows.last.locator(".bl-copy").tap()
    await expect(rows.last.locator(".bl-copy")).to_have_attribute("aria-label", "Copied")
    await context.close()


LOW_WINDOWS = [(844, 390, True), (660, 400, True), (1400, 480, False)]


@pytest.mark.parametrize(("width", "height", "touch"), LOW_WINDOWS, ids=[f"{w}x{h}" for w, h, _ in LOW_WINDOWS])
async def test_a_low_window_scrolls_to_a_log_as_high_as_itself_and_a_phone_on_its_side_gets_whole_width_messages(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int,
        touch: bool) -> None:
    """A phone on its side had the wide layout, its message 170-360 px beside the copy and link buttons,
    in a log of three rows below the controls (40% of the window)."""
    context = await browser.new_context(has_touch=touch, is_mobile=touch, viewport={"width": width, "height": height})
    try:
        page = await context.new_page()
        stream = new_stream()
        await post(http, app_server, stream, *[{"message": f"line {i} " + "word " * 30} for i in range(30)])
        await open_stream(page, app_server.url, stream)
        await expect(page.locator(".bl-shown")).to_have_text("30 shown", timeout=WAIT_MS)
        await page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
        await page.wait_for_function(_ROWS_ALIKE_AND_CONTIGUOUS, timeout=WAIT_MS)
        log = await page.locator(".bl-log").bounding_box()
        newest = page.locator(".bl-row").last
        row, message = await newest.bounding_box(), await newest.locator(".bl-message").bounding_box()
        assert log and row and message
        header = await page.locator(".q-header").bounding_box()
        assert header
        # From the header's bottom edge to the window's: no strip of the controls above it.
        assert abs(log["y"] - header["height"]) < 1 and abs(log["y"] + log["height"] - height) < 1, (log, header)
        assert row["y"] + row["height"] <= height + 0.5, "the newest line is in view"
        if touch:
            assert message["width"] >= 0.75 * row["width"], (message, row)
        assert not await page.evaluate("document.scrollingElement.scrollWidth > innerWidth")
    finally:
        await context.close()


async def open_sixty_lines(context: BrowserContext, app_server: AppProcess, http: httpx.AsyncClient) -> Page:
    """A new page in `context` of a new stream of 60 lines, all shown."""
    page = await context.new_page()
    stream = new_stream()
    await post(http, app_server, stream, *[{"message": f"line {i}"} for i in range(60)])
    await open_stream(page, app_server.url, stream)
    await expect(page.locator(".bl-shown")).to_have_text("60 shown", timeout=WAIT_MS)
    return page


@pytest.mark.parametrize(("width", "height"), [(1400, 480), (844, 390)], ids=["1400x480", "844x390"])
async def test_in_a_low_window_the_logs_keys_bring_it_into_view(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int) -> None:
    """End followed the log where no one could see it: the page stayed at its top, the log below the fold
    (the log's keys are not the page's, so End no longer scrolled the page either)."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    try:
        page = await open_sixty_lines(context, app_server, http)
        log_bottom = "document.querySelector('.bl-log').getBoundingClientRect().bottom"
        assert await page.evaluate(f"{log_bottom} > innerHeight + 1"), "the log starts below the fold"
        await page.keyboard.press("Home")  # up to the oldest line, the log brought into view
        await page.wait_for_function(f"Math.abs({log_bottom} - innerHeight) <= 1", timeout=WAIT_MS)
        await expect(page.locator(".bl-jump")).to_be_visible(timeout=WAIT_MS)
        await page.evaluate("window.scrollTo(0, 0)")
        await page.keyboard.press("End")  # the newest line, in view
        await page.wait_for_function(f"Math.abs({log_bottom} - innerHeight) <= 1", timeout=WAIT_MS)
        await expect(page.locator(".bl-jump")).to_be_hidden(timeout=WAIT_MS)
        newest = page.locator(".bl-message", has_text=re.compile(r"^line 59$"))
        await expect(newest).to_be_in_viewport(timeout=WAIT_MS)
    finally:
        await context.close()


# A menu's button, and what shows once it is open.
MENUS = {"download": (".bl-download", ".bl-download-log"),
         "highlight": (".bl-highlight-button", ".bl-highlight-text input")}


@pytest.mark.parametrize("menu", sorted(MENUS))
@pytest.mark.parametrize("key", ["End", "Home", "PageDown", "PageUp"])
async def test_with_a_menu_open_the_page_keys_do_not_scroll_the_page_under_it(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient, key: str, menu: str) -> None:
    """In a low window, with the Download menu open, End scrolled the page: the menu floated over the log,
    away from its button (also once the focus went into the menu, and with PageDown in the Highlight
    menu's field)."""
    button, inside = MENUS[menu]
    context = await browser.new_context(viewport={"width": 1400, "height": 480})
    try:
        page = await open_sixty_lines(context, app_server, http)
        await page.locator(button).click()
        await expect(page.locator(inside)).to_be_visible(timeout=WAIT_MS)
        # Pressed once the menu took the focus, as a person would.
        await page.wait_for_function("document.activeElement?.closest('.q-menu') != null", timeout=WAIT_MS)
        if key in ("Home", "PageUp"):  # the page a little down, the menu's button still in view
            await page.evaluate("window.scrollTo(0, 40)")
        scrolled = await page.evaluate("window.scrollY")
        assert scrolled == (40 if key in ("Home", "PageUp") else 0)
        await page.keyboard.press(key)
        await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        await asyncio.sleep(0.3)  # a smooth scroll's time
        assert await page.evaluate("window.scrollY") == scrolled
        await expect(page.locator(inside)).to_be_visible()
        await page.keyboard.press("Escape")
        await page.wait_for_function("document.querySelector('.q-menu:not(.q-transition--fade-leave-active)') == null",
                                     timeout=WAIT_MS)
        if menu == "download":
            # While the menu fades out (a quarter of a second after Esc), the key went nowhere.
            await page.keyboard.press(key)  # the menu closed: the keys are the log's and the page's again
            await page.wait_for_function("Math.abs(document.querySelector('.bl-log').getBoundingClientRect().bottom"
                                         " - innerHeight) <= 1", timeout=WAIT_MS)
    finally:
        await context.close()


@pytest.mark.parametrize(("width", "height", "touch"), LOW_WINDOWS, ids=[f"{w}x{h}" for w, h, _ in LOW_WINDOWS])
async def test_a_low_window_shows_a_new_streams_send_panel_whole(
        browser: Browser, app_server: AppProcess, width: int, height: int, touch: bool) -> None:
    """The log as high as the window first squeezed the send panel, open on a new stream, to nothing:
    no POST URL to send to."""
    context = await browser.new_context(has_touch=touch, is_mobile=touch, viewport={"width": width, "height": height})
    try:
        page = await context.new_page()
        await open_stream(page, app_server.url, new_stream())
        content = page.locator(".send-panel .q-expansion-item__content")
        await expect(page.locator(".send-panel .ingest-url")).to_be_visible(timeout=WAIT_MS)
        sizes = await content.evaluate("(box) => [box.clientHeight, box.scrollHeight]")
        assert sizes[0] > 100 and sizes[0] >= sizes[1], sizes
    finally:
        await context.close()


# --- the status bar --------------------------------------------------------------------------------

async def test_lines_per_second_counts_live_lines_not_the_history(page: Page, app_server: AppProcess,
                                                                   http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await post(http, app_server, stream, *[{"message": f"old {i}"} for i in range(200)])
    await open_stream(page, app_server.url, stream)
    await expect(page.locator(".bl-count")).to_have_text("200 lines", timeout=WAIT_MS)
    # The count and the rate are written together: the rate shown with the history is the one it made.
    assert await page.locator(".bl-rate").inner_text() == "0.0 lines/s"
    await post(http, app_server, stream, *[{"message": f"new {i}"} for i in range(50)])
    await expect(page.locator(".bl-count")).to_have_text("250 lines", timeout=WAIT_MS)
    await expect(page.locator(".bl-rate")).not_to_have_text("0.0 lines/s")



async def test_a_backlog_that_comes_at_once_counts_at_the_pace_the_server_took_it(page: Page) -> None:
    """Lines held back for 6 s (an outage, a slow socket), then given to the page at once: the rate is the
    stream's, about 20 lines/s, not the burst's (all of it in the last second read 150 lines/s)."""
    held: list[str | bytes] = []
    holding = False

    def through(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def from_server(message: str | bytes) -> None:
            if holding:
                held.append(message)
            else:
                socket.send(message)

        server.on_message(from_server)
        socket.on_message(server.send)
        sockets.append(socket)

    sockets: list[WebSocketRoute] = []
    await page.route_web_socket(re.compile(r"/_nicegui_ws/"), through)
    # socket.io pings every 0.8 times the reconnect window: one held 6 s must not drop the socket.
    with running_app("--page-reconnect-seconds", "30") as app:
        stream = new_stream()
        await open_stream(page, app.url, stream)
        async with httpx.AsyncClient(timeout=10) as http:
            async def send(seconds: float) -> None:  # 20 lines a second, one line a request
                start = time.monotonic()
                for n in range(int(seconds * 20)):
                    await asyncio.sleep(max(0.0, start + n / 20 - time.monotonic()))
                    await post(http, app, stream, {"message": f"line {n}"})

            await send(1)
            holding = True
            await send(6)
            holding = False
            for message in held:
                sockets[-1].send(message)
            await expect(page.locator(".bl-count")).to_have_text("140 lines", timeout=WAIT_MS)
            await page.wait_for_timeout(600)  # the status is written every 0.5 s
            rate = float((await page.locator(".bl-rate").inner_text()).removesuffix(" lines/s"))
    assert 8 <= rate <= 26, rate


# --- pausing ---------------------------------------------------------------------------------------

async def test_paused_counts_only_the_new_lines_the_filter_shows(page: Page, app_server: AppProcess,
                                                                 http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, f"{stream}?q=keep&hide=DEBUG")
    await post(http, app_server, stream, {"message": "keep before"})
    await expect(page.locator(".bl-message")).to_have_text(["keep before"], timeout=WAIT_MS)
    await page.locator(".bl-pause").click()
    await expect(page.locator(".bl-pause")).to_contain_text("Resume")
    await post(http, app_server, stream,
               *[{"message": f"keep {i}"} for i in range(3)],
               *[{"message": f"drop {i}"} for i in range(10)],
               *[{"message": f"keep but debug {i}", "level": "debug"} for i in range(2)])
    await expect(page.locator(".bl-count")).to_have_text("16 lines", timeout=WAIT_MS)
    await expect(page.locator(".bl-paused")).to_have_text("paused · 3 new (12 hidden by filter)")
    # The count follows the filter while paused.
    await page.locator(".bl-level-chip", has_text="DEBUG").click()
    await expect(page.locator(".bl-paused")).to_have_text("paused · 5 new (10 hidden by filter)")
    await page.locator(".bl-level-chip", has_text="DEBUG").click()
    await expect(page.locator(".bl-paused")).to_have_text("paused · 3 new (12 hidden by filter)")
    await page.locator(".bl-pause").click()
    await expect(page.locator(".bl-message")).to_have_text(["keep before", "keep 0", "keep 1", "keep 2"])
    await expect(page.locator(".bl-paused")).to_be_hidden()
    # With nothing hidden, the count says only what is new.
    await pause(page)
    await expect(page.locator(".bl-paused")).to_have_text("paused · 0 new")
    await post(http, app_server, stream, {"message": "keep after"})
    await expect(page.locator(".bl-paused")).to_have_text("paused · 1 new", timeout=WAIT_MS)


# --- unsafe characters -----------------------------------------------------------------------------

async def test_control_and_bidi_characters_are_shown_escaped_and_downloaded_as_they_are(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    message = "invoice\u202efdp.exe bell\x07 csi\x9b del\x7f\u2066isolated\u2069 tab\tkept"
    await post(http, app_server, stream, {"message": message, "program": "p\u200fq", "fields": {"k": "v\u202e"}})
    shown = page.locator(".bl-message")
    await expect(shown).to_have_text(
        "invoice\\u202efdp.exe bell\\x07 csi\\x9b del\\x7f\\u2066isolated\\u2069 tab\tkept", timeout=WAIT_MS)
    await expect(shown.locator(".bl-escape")).to_have_text(["\\u202e", "\\x07", "\\x9b", "\\x7f", "\\u2066", "\\u2069"])
    await expect(page.locator(".bl-program")).to_have_text("p\\u200fq")
    await page.locator(".bl-line").click()  # open the fields
    await expect(page.locator(".bl-fields-json")).to_contain_text('"v\\u202e"')
    unsafe = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
    assert not unsafe.search(await page.locator(".bl-log").evaluate("element => element.textContent"))
    # The files hold what was sent.
    assert json.loads(await download(page, "ndjson"))["message"] == message
    assert message in await download(page, "log")


async def test_invisible_and_line_breaking_characters_are_shown_escaped(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    message = "ls\u2028sep\u2029para zero\u200bwidth bom\ufeff soft\u00adhyphen word\u2060joiner mongolian\u180evs"
    await post(http, app_server, stream, {"message": message, "program": "w\u200bx"})
    shown = page.locator(".bl-message")
    await expect(shown).to_have_text(
        "ls\\u2028sep\\u2029para zero\\u200bwidth bom\\ufeff soft\\xadhyphen word\\u2060joiner mongolian\\u180evs",
        timeout=WAIT_MS)
    await expect(shown.locator(".bl-escape")).to_have_text(
        ["\\u2028", "\\u2029", "\\u200b", "\\ufeff", "\\xad", "\\u2060", "\\u180e"])
    await expect(page.locator(".bl-program")).to_have_text("w\\u200bx")
    # One row of one line: U+2028 and U+2029 break no line.
    assert await page.locator(".bl-more").count() == 0
    assert json.loads(await download(page, "ndjson"))["message"] == message


# At most this many nodes are made for one text (MAX_NODES_PER_TEXT in log_text.js), and for one text of
# an opened row (MAX_NODES_PER_OPEN_TEXT), give or take the last piece and the rest.
MAX_NODES_PER_TEXT = 256
MAX_NODES_PER_OPEN_TEXT = 2048
COUNT_NODES = """element => {
  const walker = document.createTreeWalker(element);
  let count = 0;
  while (walker.nextNode()) count++;
  return count;
}"""


async def test_a_text_of_thousands_of_escapes_or_colours_makes_a_bounded_number_of_nodes(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    """Each escape and colour run was an element, and each piece of text between them a node: a row of 21,666
    zero-width spaces took a second to draw (and as long again to open), and anyone who can send could keep
    every viewer's tab frozen so."""
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    zero_width = "a\u200b" * 15_000  # 60 KB
    colours = "".join(f"\x1b[3{index % 8}mc" for index in range(5_000))
    erased = "x\x1b[K" * 10_000  # sequences that draw nothing, but split the text into pieces
    await post(http, app_server, stream, {"message": zero_width, "fields": {"k": "\u202e" * 5_000}},
               {"message": colours}, {"message": erased})
    messages = page.locator(".bl-message")
    await expect(messages).to_have_count(3, timeout=WAIT_MS)
    for index in range(3):
        assert await messages.nth(index).evaluate(COUNT_NODES) <= MAX_NODES_PER_TEXT + 3
    assert await messages.last.text_content() == "x" * 10_000
    # Past the bound the text is still all there, escaped, only not styled.
    shown = await messages.first.text_content()
    assert shown == "a\\u200b" * 15_000 and "\u200b" not in shown
    assert await messages.nth(1).text_content() == "c" * 5_000
    await expect(messages.first.locator(".bl-escape").first).to_have_text("\\u200b")
    await messages.first.click()  # open it: its fields too are bounded, and still escaped
    fields = page.locator(".bl-fields-json")
    await expect(fields).to_contain_text("\\u202e" * 10, timeout=WAIT_MS)
    assert await fields.evaluate(COUNT_NODES) <= MAX_NODES_PER_OPEN_TEXT + 3
    assert "\u202e" not in await fields.text_content()


async def test_an_opened_row_of_a_test_runs_coloured_output_keeps_its_colours_and_marks(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    lines = [f"\x1b[32mPASSED\x1b[0m tests/test_{index}.py::test_{index}" for index in range(300)]
    # (Highlights look at a message's first 4,096 characters: log_highlight.MAX_SCAN_CHARS.)
    await post(http, app_server, stream, {"message": "\n".join(["the needle's run", *lines, "\x1b[31mFAILED\x1b[0m"])})
    response = await page.goto(f"{app_server.url}/{stream}?q=needle")
    assert response is not None and response.status == 200
    await page.locator(".bl-line").click()  # open it: every line shows, the last one too
    message = page.locator(".bl-open .bl-message")
    await expect(message.locator(".bl-fg-1")).to_have_text("FAILED", timeout=WAIT_MS)
    await expect(message.locator("mark.bl-hl-match")).to_have_text("needle")
    assert await message.locator(".bl-fg-2").count() == 300


# --- dates -----------------------------------------------------------------------------------------

async def test_a_time_from_another_day_shows_its_date_in_local_time_and_in_utc(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    zone = "Pacific/Auckland"  # far from UTC, so that local and UTC days often differ
    context = await browser.new_context(timezone_id=zone)
    page = await context.new_page()
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    now = time.time()
    stamps = {"a year ago": now - 366 * 86400, "yesterday": now - 86400, "today": now}
    await post(http, app_server, stream, *[{"message": name, "timestamp": ts} for name, ts in stamps.items()])
    times = page.locator(".bl-time")
    await expect(times).to_have_count(3, timeout=WAIT_MS)

    def expected(ts: float, tz: dt.tzinfo, suffix: str) -> str:
        moment = dt.datetime.fromtimestamp(ts, tz)
        clock = moment.strftime("%H:%M:%S.%f")[:-3] + suffix
        today = dt.datetime.fromtimestamp(now, tz).date()
        return clock if moment.date() == today else f"{moment:%Y-%m-%d} {clock}"

    await expect(times).to_have_text([expected(ts, ZoneInfo(zone), "") for ts in stamps.values()])
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", await times.last.inner_text())
    await page.locator(".bl-utc").click()
    await expect(times).to_have_text([expected(ts, dt.UTC, "Z") for ts in stamps.values()])
    # Dated rows get a column wide enough for the date: the level column stays aligned.
    level_lefts = await page.locator(".bl-level").evaluate_all(
        "levels => levels.map((level) => level.getBoundingClientRect().left)")
    assert len(set(level_lefts)) == 1, level_lefts
    time_box = await times.first.evaluate("element => [element.scrollWidth, element.clientWidth]")
    assert time_box[0] <= time_box[1], "the date and time fit their column"
    await context.close()


# --- ANSI colours ----------------------------------------------------------------------------------

COLOURED = "\x1b[31mred\x1b[0m plain \x1b[1;32mbold green\x1b[0m"


async def test_ansi_colours_become_styles_and_other_escape_sequences_are_dropped(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    others = "\x1b]0;window title\x07\x1b[2Kcleared \x1b[38;5;196mnear red\x1b[39m lone \x1b"
    await post(http, app_server, stream, {"message": COLOURED}, {"message": others})
    messages = page.locator(".bl-message")
    await expect(messages).to_have_text(["red plain bold green", "cleared near red lone \\x1b"], timeout=WAIT_MS)
    coloured = messages.first
    await expect(coloured.locator("span")).to_have_count(2)
    red, bold_green = coloured.locator("span").first, coloured.locator("span").last
    await expect(red).to_have_text("red")
    await expect(red).to_have_class("bl-fg-1")
    await expect(bold_green).to_have_text("bold green")
    await expect(bold_green).to_have_class("bl-fg-2 bl-bold")
    plain_colour = await coloured.evaluate("element => getComputedStyle(element).color")
    assert await red.evaluate("element => getComputedStyle(element).color") != plain_colour
    assert await bold_green.evaluate("element => getComputedStyle(element).fontWeight") == "700"
    await expect(messages.last.locator(".bl-fg-9")).to_have_text("near red")  # 256 colours: the nearest of 16
    await expect(messages.last.locator(".bl-escape")).to_have_text("\\x1b")  # not part of a sequence
    # The filter reads what is shown, not the codes.
    await page.locator(".bl-filter-input input").fill("red plain")
    await expect(messages).to_have_text(["red plain bold green"])
    await page.locator(".bl-filter-input input").fill("31m")
    await expect(page.locator(".bl-shown")).to_have_text("0 shown")
    # The files hold what was sent.
    await page.locator(".bl-filter-input input").fill("")
    await expect(page.locator(".bl-shown")).to_have_text("2 shown")
    sent = [json.loads(line)["message"] for line in (await download(page, "ndjson")).splitlines()]
    assert sent == [COLOURED, others]
