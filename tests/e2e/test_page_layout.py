"""The page as laid out in a real browser: window sizes, phones, keys that belong to menus, notices."""

from __future__ import annotations

import asyncio
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from dashboard.pages.restart_notice import LINES_GONE
from dashboard.protocol import view_key
from harness.servers import AppProcess, free_port, running

from .conftest import controls_under, open_stream

WINDOW_SIZES = [(1400, 900), (1280, 700), (1920, 1200), (1024, 768), (420, 800), (360, 640)]
LAYOUT_TIMEOUT_MS = 15_000


def new_stream() -> str:
    return str(uuid.uuid4())


async def post_lines(http: httpx.AsyncClient, app: AppProcess, stream: str, messages: list[str]) -> None:
    response = await http.post(f"{app.url}/live/{stream}", json=[{"message": message} for message in messages])
    assert response.status_code == 204, response.text


def send_panel_header(page: Page) -> Locator:
    return page.locator(".send-panel .q-expansion-item__container > .q-item")


async def set_send_panel(page: Page, *, open_: bool) -> None:
    """Open or close the send panel by clicking its header, as a person would."""
    header = send_panel_header(page)
    expanded = "true" if open_ else "false"
    if await header.get_attribute("aria-expanded") != expanded:
        await header.click()
    await expect(header).to_have_attribute("aria-expanded", expanded)
    # The panel slides open or shut (Quasar sets its height inline meanwhile): measure once it stopped.
    await page.wait_for_function(_PANEL_AT_REST, arg=open_, timeout=LAYOUT_TIMEOUT_MS)


_PANEL_AT_REST = """(open) => {
  const content = document.querySelector('.send-panel .q-expansion-item__content');
  return content !== null && content.style.height === '' && (getComputedStyle(content).display !== 'none') === open;
}"""


# The newest row is wholly inside the log's scroller and the window, and the page does not scroll.
_NEWEST_ROW_IN_VIEW = """(expected) => {
  const rows = document.querySelectorAll('.bl-row');
  const newest = rows[rows.length - 1];
  if (!newest || newest.querySelector('.bl-message').textContent !== expected) return false;
  const box = newest.getBoundingClientRect();
  const scroller = document.querySelector('.bl-scroller').getBoundingClientRect();
  return box.top >= scroller.top && box.bottom <= scroller.bottom + 0.05 && box.bottom <= innerHeight
    && document.scrollingElement.scrollHeight <= innerHeight && document.scrollingElement.scrollWidth <= innerWidth
    && document.querySelector('.bl-log').getBoundingClientRect().height >= 0.4 * innerHeight - 0.5;
}"""

_GEOMETRY = """() => {
  const rows = document.querySelectorAll('.bl-row');
  const newest = rows[rows.length - 1];
  const box = newest ? newest.getBoundingClientRect() : null;
  const scroller = document.querySelector('.bl-scroller').getBoundingClientRect();
  return {window: [innerWidth, innerHeight], page: [document.scrollingElement.scrollWidth,
          document.scrollingElement.scrollHeight], scroller: [scroller.top, scroller.bottom],
          log: document.querySelector('.bl-log').getBoundingClientRect().height,
          newest: newest ? [newest.textContent, box.top, box.bottom] : null};
}"""


async def expect_newest_row_in_view(page: Page, message: str) -> None:
    """Wait until the row of `message` is the newest and wholly in view, the page not scrolling."""
    try:
        await page.wait_for_function(_NEWEST_ROW_IN_VIEW, arg=message, timeout=LAYOUT_TIMEOUT_MS)
    except PlaywrightTimeout as error:
        raise AssertionError(f"the newest row is not wholly in view: {await page.evaluate(_GEOMETRY)}") from error


# --- 1. following shows the newest row, whatever the window ----------------------------------------

@pytest.mark.parametrize(("width", "height"), WINDOW_SIZES, ids=[f"{w}x{h}" for w, h in WINDOW_SIZES])
async def test_following_shows_the_newest_row_at_every_window_size(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    stream = new_stream()
    await post_lines(http, app_server, stream, [f"line {i}" for i in range(100)])
    await open_stream(page, app_server.url, stream)
    await expect(page.locator(".bl-count")).to_have_text("100 lines")
    for open_ in (True, False):
        await set_send_panel(page, open_=open_)
        await expect_newest_row_in_view(page, "line 99")
    await set_send_panel(page, open_=True)
    await post_lines(http, app_server, stream, [f"live {i}" for i in range(30)])
    await expect_newest_row_in_view(page, "live 29")
    await set_send_panel(page, open_=False)
    await post_lines(http, app_server, stream, ["the very last"])
    await expect_newest_row_in_view(page, "the very last")


# An empty stream opens with the send panel open: the log keeps room, nothing is wider than the window.
SEND_PANEL_SIZES = [(360, 640), (420, 800), (1280, 700)]


@pytest.mark.parametrize(("width", "height"), SEND_PANEL_SIZES, ids=[f"{w}x{h}" for w, h in SEND_PANEL_SIZES])
async def test_with_the_send_panel_open_the_log_keeps_room_and_the_page_fits_the_window(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await expect(send_panel_header(page)).to_have_attribute("aria-expanded", "true")
    await page.wait_for_function(_PANEL_AT_REST, arg=True, timeout=LAYOUT_TIMEOUT_MS)
    await post_lines(http, app_server, stream, [f"line {i}" for i in range(30)])
    await expect_newest_row_in_view(page, "line 29")
    for button in (".access-row .bl-copy-button", ".send-panel .bl-copy-button"):
        await expect_within_the_window(page, button)
    # "Copy read-only link" stays on one line: the row is no taller than a button.
    access = await page.locator(".access-row").evaluate(_BOX)
    assert access["bottom"] - access["top"] <= 48, access
    # Beside it, the link itself where there is room for it; a phone's row had room for "Rea…".
    link = page.locator(".read-only-url")
    await (expect(link).to_be_hidden() if width <= 640 else expect(link).to_be_visible())
    ingest = await page.locator(".ingest-url").evaluate(_BOX)
    assert ingest["right"] <= width, ingest
    await set_send_panel(page, open_=False)
    await expect_newest_row_in_view(page, "line 29")
    await set_send_panel(page, open_=True)
    await post_lines(http, app_server, stream, ["the newest"])
    await expect_newest_row_in_view(page, "the newest")


# --- 2. keys belong to the menu, field or control that has them ------------------------------------

MENU_BUTTONS = [(".bl-highlight-button", "Highlight words in colour", ".bl-highlight-text input"),
                (".bl-add-stream", "Show another stream in this view", ".bl-add-stream-input input")]


@pytest.mark.parametrize(("width", "height"), [(1400, 700), (360, 740)], ids=["1400x700", "360x740"])
@pytest.mark.parametrize(("button", "tip", "field"), MENU_BUTTONS, ids=["highlights", "add-stream"])
async def test_a_button_s_tooltip_does_not_lie_over_the_menu_it_opened(
        page: Page, app_server: AppProcess, width: int, height: int, button: str, tip: str, field: str) -> None:
    """The pointer stays on the button that opened the menu: its tooltip lay over the menu's text field
    (all of it on a phone), while typing and after Esc."""
    await page.set_viewport_size({"width": width, "height": height})
    await open_stream(page, app_server.url, new_stream())
    await page.locator(button).hover()
    tooltip = page.get_by_role("tooltip").filter(has_text=tip)
    await expect(tooltip).to_be_visible()  # what a pointer resting on the button shows
    await page.locator(button).click()
    await expect(page.locator(field)).to_be_focused()
    await page.keyboard.type("upstream")
    await page.wait_for_timeout(500)  # the tooltip's own delays are shorter
    await expect(tooltip).to_be_hidden()
    on_top = await page.locator(field).evaluate(
        "(input) => { const box = input.getBoundingClientRect();"
        " return input.contains(document.elementFromPoint(box.x + 8, box.y + box.height / 2)); }")
    assert on_top


async def wait_for_query(page: Page, key: str, value: str | None) -> None:
    """Wait until the page URL's query has `key` = `value` (None: absent); it changes asynchronously."""
    def matches(url: str) -> bool:
        return parse_qs(urlsplit(url).query).get(key) == (None if value is None else [value])
    await page.wait_for_url(matches, timeout=LAYOUT_TIMEOUT_MS)


async def settle(page: Page) -> None:
    """Round-trip one change through the server: the events sent before it have been handled."""
    await page.locator(".bl-invert").click()
    await wait_for_query(page, "not", "1")
    await page.locator(".bl-invert").click()
    await wait_for_query(page, "not", None)


async def expect_not_paused(page: Page) -> None:
    await settle(page)
    await expect(page.locator(".bl-pause")).to_contain_text("Pause")
    await expect(page.locator(".bl-paused")).to_be_hidden()


async def filter_then_close_the_programs_menu(page: Page, app_server: AppProcess, http: httpx.AsyncClient,
                                             text: str) -> None:
    """A stream with two programs; type `text` in the filter, open the Programs menu, close it with Esc."""
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    response = await http.post(f"{app_server.url}/live/{stream}", json=[
        {"message": f"{text} one", "program": "web"}, {"message": f"{text} two", "program": "worker"}])
    assert response.status_code == 204
    await page.locator(".bl-filter-input input").fill(text)
    await wait_for_query(page, "q", text)
    await page.locator(".bl-programs").click()
    await expect(page.get_by_role("option")).to_have_text(["web", "worker"])
    await page.keyboard.press("Escape")
    await expect(page.locator(".q-menu")).to_have_count(0)


async def test_escape_that_closes_the_programs_menu_keeps_the_filter(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    await filter_then_close_the_programs_menu(page, app_server, http, "alpha")
    await settle(page)
    await expect(page.locator(".bl-filter-input input")).to_have_value("alpha")
    assert parse_qs(urlsplit(page.url).query).get("q") == ["alpha"]
    # With no menu open, Esc clears the filter, as the README says.
    await page.keyboard.press("Escape")
    await expect(page.locator(".bl-filter-input input")).to_have_value("")
    await wait_for_query(page, "q", None)


async def test_the_logs_keys_work_while_the_closed_programs_select_keeps_the_focus(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    """After Esc closed the Programs menu, the select kept the focus and took Home and End for its own:
    the log neither went up nor followed again."""
    await filter_then_close_the_programs_menu(page, app_server, http, "many")
    await page.locator(".bl-filter-input input").fill("")
    stream = urlsplit(page.url).path.strip("/")
    response = await http.post(f"{app_server.url}/live/{stream}", json=[{"message": f"line {i}"} for i in range(200)])
    assert response.status_code == 204
    await expect(page.locator(".bl-message").last).to_have_text("line 199")
    await page.locator(".bl-programs").click()
    await expect(page.get_by_role("option").first).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(page.locator(".q-menu")).to_have_count(0)
    await page.keyboard.press("Home")  # up to the oldest: the view stops following
    await expect(page.locator(".bl-jump")).to_be_visible()
    await page.keyboard.press("End")  # and follows again
    await expect(page.locator(".bl-jump")).to_be_hidden()
    await expect(page.locator(".bl-message").last).to_have_text("line 199")


async def open_with_one_line(page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    """A stream page that shows one line, "one"."""
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post_lines(http, app_server, stream, ["one"])
    await expect(page.locator(".bl-message")).to_have_text(["one"])


async def test_space_on_a_focused_control_acts_on_it_and_does_not_pause(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    await open_with_one_line(page, app_server, http)
    chip = page.locator(".bl-level-chip", has_text="DEBUG")
    await chip.focus()
    await expect(chip).to_be_focused()
    await page.keyboard.press("Space")  # toggles the chip (as Enter does), and is not the page's
    await expect_not_paused(page)
    header = send_panel_header(page)
    expanded = await header.get_attribute("aria-expanded")
    await header.focus()
    await page.keyboard.press("Space")  # opens or closes the send panel
    await expect(header).not_to_have_attribute("aria-expanded", expanded or "")
    await expect_not_paused(page)
    # On the log itself, Space still pauses.
    await page.locator(".bl-scroller").focus()
    await page.keyboard.press("Space")
    await expect(page.locator(".bl-pause")).to_contain_text("Resume")


async def expect_paused(page: Page, paused: bool) -> None:
    await expect(page.locator(".bl-pause")).to_contain_text("Resume" if paused else "Pause")


async def test_space_after_a_click_on_plain_page_areas_pauses_and_resumes(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await post_lines(http, app_server, stream, ["one"])
    await open_stream(page, app_server.url, stream)
    await expect(page.locator(".bl-message")).to_have_text(["one"])
    await set_send_panel(page, open_=True)
    paused = False
    # A click on text focuses NiceGUI's layout (tabindex -1): a container, not a control.
    for area in (page.locator(".q-header"), page.locator(".read-only-url"), page.locator(".bl-status"),
                 page.locator(".snippet code").first):
        await area.click()
        await page.keyboard.press("Space")
        paused = not paused
        await expect_paused(page, paused)


async def test_space_on_a_level_chip_clicked_with_the_mouse_toggles_it(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    await open_with_one_line(page, app_server, http)
    chip = page.locator(".bl-level-chip", has_text="DEBUG")
    await chip.click()
    await wait_for_query(page, "hide", "DEBUG")
    await expect(chip).to_be_focused()
    await page.keyboard.press("Space")  # as Enter does: a chip is a toggle button
    await wait_for_query(page, "hide", None)
    await page.keyboard.press("Space")
    await wait_for_query(page, "hide", "DEBUG")
    await expect_paused(page, False)


async def test_a_second_escape_after_the_programs_menu_closed_clears_the_filter(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    await filter_then_close_the_programs_menu(page, app_server, http, "GET")
    await expect(page.locator(".bl-filter-input input")).to_have_value("GET")
    # Focus stays on the select's focus target (an input, but no text field).
    await page.keyboard.press("Escape")
    await expect(page.locator(".bl-filter-input input")).to_have_value("")
    await wait_for_query(page, "q", None)
    await page.locator(".bl-programs").click()
    await page.keyboard.press("Escape")
    await expect(page.locator(".q-menu")).to_have_count(0)
    await page.keyboard.press("/")
    await expect(page.locator(".bl-filter-input input")).to_be_focused()


# --- 3. an invalid pattern: one message, clear of the status bar ------------------------------------

_BOX = """(element) => { const box = element.getBoundingClientRect();
  return {left: box.left, top: box.top, right: box.right, bottom: box.bottom}; }"""


def intersects(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (420, 800)], ids=["1400x900", "420x800"])
async def test_an_invalid_regex_is_reported_once_and_clear_of_the_status_bar(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    stream = new_stream()
    await post_lines(http, app_server, stream, ["alpha", "beta"])
    await open_stream(page, app_server.url, stream)
    await page.locator(".bl-regex").click()
    await page.locator(".bl-filter-input input").fill("a[")
    error = page.locator(".bl-filter-error")
    await expect(error).to_have_text(re.compile(r"^Invalid regular expression: .*\S"))
    await expect(page.locator(".bl-filter-input")).to_have_class(re.compile(r"\bq-field--error\b"))
    text = await error.inner_text()
    assert text.count("Invalid regular expression") == 1, text
    assert (await page.locator("body").inner_text()).count("Invalid regular expression") == 1
    status = await page.locator(".bl-status").evaluate(_BOX)
    for part in await page.locator(".bl-filter-input, .bl-filter-input *").all():
        if await part.is_visible():
            assert not intersects(await part.evaluate(_BOX), status), await part.evaluate("(e) => e.outerHTML")
    await page.locator(".bl-filter-input input").fill("a[lp]")
    await expect(error).to_be_hidden()
    await expect(page.locator(".bl-filter-input")).not_to_have_class(re.compile(r"\bq-field--error\b"))
    await expect(page.locator(".bl-message")).to_have_text(["alpha"])


# --- 4. the send panel: open for an empty stream, else as this browser chose ------------------------

async def stored_panel_choice(page: Page) -> str | None:
    choice: str | None = await page.evaluate("localStorage.getItem('bunnylogs-send-panel')")
    return choice


async def test_send_panel_opens_on_an_empty_stream_and_is_closed_once_it_has_lines(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    empty, busy = new_stream(), new_stream()
    await post_lines(http, app_server, busy, ["already here"])
    await open_stream(page, app_server.url, empty)
    await expect(send_panel_header(page)).to_have_attribute("aria-expanded", "true")
    await expect(page.locator(".ingest-url")).to_be_visible()
    await open_stream(page, app_server.url, busy)
    await expect(page.locator(".bl-message")).to_have_text(["already here"])
    await expect(send_panel_header(page)).to_have_attribute("aria-expanded", "false")
    # A link with a view's filters is for reading, even to an empty stream.
    await open_stream(page, app_server.url, f"{new_stream()}?q=error")
    await expect(page.locator(".bl-state")).to_have_text("connected")
    await expect(send_panel_header(page)).to_have_attribute("aria-expanded", "false")
    assert await stored_panel_choice(page) is None  # nobody chose anything yet


async def test_the_readers_choice_is_remembered_for_streams_with_lines(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    """An empty stream always opens the panel (sending is the next step) and a link with filters
    always starts closed (it is for reading); between them, this browser's last choice holds."""
    busy, other_busy = new_stream(), new_stream()
    for stream in (busy, other_busy):
        await post_lines(http, app_server, stream, ["already here"])
    await open_stream(page, app_server.url, new_stream())
    await set_send_panel(page, open_=False)
    await page.wait_for_function("localStorage.getItem('bunnylogs-send-panel') === 'closed'")
    await open_stream(page, app_server.url, new_stream())  # New stream: its snippets are what to see
    await expect(send_panel_header(page)).to_have_attribute("aria-expanded", "true")
    await open_stream(page, app_server.url, busy)
    await expect(page.locator(".bl-message")).to_have_text(["already here"])
    await expect(send_panel_header(page)).to_have_attribute("aria-expanded", "false")
    await set_send_panel(page, open_=True)
    await page.wait_for_function("localStorage.getItem('bunnylogs-send-panel') === 'open'")
    await open_stream(page, app_server.url, other_busy)
    await expect(send_panel_header(page)).to_have_attribute("aria-expanded", "true", timeout=LAYOUT_TIMEOUT_MS)
    await expect(page.locator(".ingest-url")).to_be_visible()
    await open_stream(page, app_server.url, f"{other_busy}?q=already")
    await expect(page.locator(".bl-message")).to_have_text(["already here"])
    await page.wait_for_timeout(500)  # the remembered choice would have been applied by now
    await expect(send_panel_header(page)).to_have_attribute("aria-expanded", "false")
    assert await stored_panel_choice(page) == "open"


# --- 5. phones: the message is on screen and wraps, the controls are in reach ------------------------

PHONES = [(420, 800), (360, 640)]
LONG_MESSAGE = "a long message that goes on and on " * 7

_NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= innerWidth"

# Each row starts where the one above it ends: the virtual list's row height is the rows' real one.
_ROWS_CONTIGUOUS = """() => {
  const boxes = [...document.querySelectorAll('.bl-row')].map((row) => row.getBoundingClientRect());
  return boxes.length > 1 && boxes.every((box, i) => i === 0 || Math.abs(box.top - boxes[i - 1].bottom) < 1);
}"""


async def expect_within_the_window(page: Page, selector: str) -> None:
    element = page.locator(selector).first
    await expect(element).to_be_visible()
    box = await element.evaluate(_BOX)
    width = await page.evaluate("innerWidth")
    assert box["left"] >= 0 and box["right"] <= width, f"{selector} is at {box} in a window {width} px wide"


# The code a snippet's copy button might cover: each line's boxes, as far as the code block shows them.
_CODE_UNDER_BUTTON = """(snippet) => {
  const button = snippet.querySelector('.bl-copy-button').getBoundingClientRect();
  const code = snippet.querySelector('code');
  let view = code.getBoundingClientRect();
  for (let box = code.parentElement; box !== snippet; box = box.parentElement) {
    if (getComputedStyle(box).overflowX !== 'visible') {
      const clip = box.getBoundingClientRect();
      view = {left: Math.max(view.left, clip.left), right: Math.min(view.right, clip.right), top: view.top,
              bottom: view.bottom};
    }
  }
  const range = document.createRange();
  range.selectNodeContents(code);
  const covered = [];
  for (const box of range.getClientRects()) {
    const left = Math.max(box.left, view.left), right = Math.min(box.right, view.right);
    if (right <= left || box.width === 0) continue;
    if (left < button.right && button.left < right && box.top < button.bottom && button.top < box.bottom)
      covered.push([Math.round(left), Math.round(box.top), Math.round(right), Math.round(box.bottom)]);
  }
  const scroller = code.closest('pre');
  return {covered, hidden: scroller.scrollWidth - scroller.clientWidth,
          button: [button.left, button.top, button.right, button.bottom]};
}"""

SNIPPET_SIZES = [(1024, 768), (420, 800), (360, 640)]


@pytest.mark.parametrize(("width", "height"), SNIPPET_SIZES, ids=[f"{w}x{h}" for w, h in SNIPPET_SIZES])
async def test_the_snippet_copy_buttons_cover_no_code(page: Page, app_server: AppProcess, width: int,
                                                      height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    await open_stream(page, app_server.url, new_stream())
    await expect(send_panel_header(page)).to_have_attribute("aria-expanded", "true")
    for tab in ("curl", "Python", "pipe & tail"):
        await page.get_by_role("tab", name=tab).click()
        snippets = page.locator(".q-tab-panel:visible .snippet")
        await expect(snippets.first).to_be_visible()
        await page.wait_for_timeout(400)  # the tab panels slide
        for snippet in await snippets.all():
            await snippet.scroll_into_view_if_needed()
            found = await snippet.evaluate(_CODE_UNDER_BUTTON)
            assert not found["covered"], f"{tab}: code under the copy button: {found}"
            assert found["hidden"] <= 0, f"{tab}: code hidden past the right edge: {found}"
    assert await page.evaluate(_NO_SIDEWAYS_SCROLL)


@pytest.mark.parametrize(("width", "height"), PHONES, ids=[f"{w}x{h}" for w, h in PHONES])
async def test_on_a_phone_messages_wrap_on_screen_and_the_controls_work(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    stream = new_stream()
    await post_lines(http, app_server, stream, [*[f"line {i}" for i in range(40)], LONG_MESSAGE, "short last"])
    await open_stream(page, app_server.url, stream)
    await expect_newest_row_in_view(page, "short last")
    assert await page.evaluate(_NO_SIDEWAYS_SCROLL)
    assert await page.evaluate(_ROWS_CONTIGUOUS)
    message = page.locator(".bl-row", has_text="a long message").locator(".bl-message")
    box = await message.evaluate(_BOX)
    assert box["left"] >= 0 and box["right"] <= width and box["right"] - box["left"] >= width / 2, box
    line_height = await message.evaluate("(element) => parseFloat(getComputedStyle(element).lineHeight)")
    assert box["bottom"] - box["top"] >= 1.9 * line_height, "a long message wraps onto a second line"
    await expect_within_the_window(page, ".bl-row >> nth=-1 >> .bl-message")
    for control in (".bl-filter-input", ".bl-regex", ".bl-invert", ".bl-programs", ".bl-pause", ".bl-clear",
                    ".bl-utc", ".bl-download", ".bl-theme"):
        await expect_within_the_window(page, control)
    await page.locator(".bl-pause").click()
    await expect(page.locator(".bl-pause")).to_contain_text("Resume")
    await page.locator(".bl-pause").click()
    await expect(page.locator(".bl-pause")).to_contain_text("Pause")
    await page.locator(".bl-filter-input input").fill("short")
    await expect(page.locator(".bl-message")).to_have_text(["short last"])
    await set_send_panel(page, open_=True)  # the snippets do not widen the page either
    assert await page.evaluate(_NO_SIDEWAYS_SCROLL)


async def test_rows_keep_their_places_when_the_window_narrows_to_a_phone(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    await page.set_viewport_size({"width": 1280, "height": 800})
    stream = new_stream()
    await post_lines(http, app_server, stream, [*[f"line {i}" for i in range(60)], "the newest"])
    await open_stream(page, app_server.url, stream)
    await expect_newest_row_in_view(page, "the newest")
    await page.set_viewport_size({"width": 420, "height": 800})
    await page.wait_for_function(_ROWS_CONTIGUOUS, timeout=LAYOUT_TIMEOUT_MS)
    await expect_newest_row_in_view(page, "the newest")
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.wait_for_function(_ROWS_CONTIGUOUS, timeout=LAYOUT_TIMEOUT_MS)
    await expect_newest_row_in_view(page, "the newest")


async def test_the_toolbar_is_one_row_at_1280_px(page: Page, app_server: AppProcess) -> None:
    await page.set_viewport_size({"width": 1280, "height": 800})
    await open_stream(page, app_server.url, new_stream())
    await expect(page.locator(".bl-state")).to_have_text("connected")
    filter_box = await page.locator(".bl-filter-input").evaluate(_BOX)
    for control in (".bl-pause", ".bl-utc", ".bl-download", ".bl-theme"):
        box = await page.locator(control).evaluate(_BOX)
        middle = (box["top"] + box["bottom"]) / 2
        assert filter_box["top"] < middle < filter_box["bottom"], f"{control} wrapped below the filter field"


async def test_the_page_is_styled_without_an_in_page_css_compiler(page: Page, app_server: AppProcess,
                                                                 http: httpx.AsyncClient) -> None:
    """The Tailwind classes come built ahead of time (dashboard/static/tailwind.css), and rows are
    not divs: NiceGUI's compiler rescanned the page on every new row, and Quasar's `div` rules
    made every row restyle when one left the list."""
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post_lines(http, app_server, stream, ["styled"])
    await expect(page.locator(".bl-row")).to_have_count(1)
    scripts = await page.evaluate("() => [...document.scripts].map((script) => script.src).join(' ')")
    assert "tailwind" not in scripts
    header = await page.locator(".q-header").evaluate(
        "header => ({background: getComputedStyle(header).backgroundColor, gap: getComputedStyle(header).columnGap})")
    assert header["background"] not in ("", "rgba(0, 0, 0, 0)"), "bg-slate-800 is styled"
    assert header["gap"] == "12px", "gap-3 is styled"
    assert await page.locator(".bl-row").evaluate("row => row.tagName") == "BL-ROW"
    assert await page.evaluate("() => [...document.styleSheets].every((sheet) => "
                               "[...sheet.cssRules].every((rule) => rule.selectorText !== '#esm-fallback ~ *'))")


async def test_colours_and_base_styles_built_ahead_of_time_reach_every_page(page: Page,
                                                                           app_server: AppProcess) -> None:
    """The read-only badge's slate (a class, not NiceGUI's color= made into one at run time), and
    Tailwind's base styles, which every NiceGUI page shares (its error pages too, which our frame does not draw)."""
    await open_stream(page, app_server.url, view_key(new_stream()))
    badge = page.locator(".read-only-badge")
    await expect(badge).to_be_visible()
    slate = await page.evaluate("""() => { const probe = document.createElement('div');
        probe.className = 'bg-slate-600'; document.body.append(probe);
        const colour = getComputedStyle(probe).backgroundColor; probe.remove(); return colour; }""")
    assert slate not in ("", "rgba(0, 0, 0, 0)")
    assert await badge.evaluate("badge => getComputedStyle(badge).backgroundColor") == slate
    await page.set_content('<svg width="10" height="10"></svg>')  # Tailwind's base: an svg is a block
    assert await page.locator("svg").evaluate("svg => getComputedStyle(svg).display") == "inline"
    await page.goto(f"{app_server.url}/")
    await page.evaluate("document.body.insertAdjacentHTML('beforeend', '<svg width=\"10\" height=\"10\"></svg>')")
    assert await page.locator("svg").last.evaluate("svg => getComputedStyle(svg).display") == "block"


# --- 6. a restart of a memory-bus server: the page says its lines are gone ------------------------

RESTART_TIMEOUT_MS = 60_000
_TAB_RECORD = "JSON.parse(sessionStorage.getItem('bunnylogs-viewed') || '{}')"


async def test_after_a_restart_of_a_memory_bus_server_the_page_says_its_lines_are_gone(
        page: Page, http: httpx.AsyncClient) -> None:
    app = AppProcess("--history", "50", port=free_port())
    with running(app):
        stream = new_stream()
        await open_stream(page, app.url, stream)
        await post_lines(http, app, stream, ["before the restart"])
        await expect(page.locator(".bl-message")).to_have_text(["before the restart"])
        await page.wait_for_function(f"{_TAB_RECORD}.rows === true")
        # A reload by the reader is no restart: the same server, the lines still there, no notice.
        marked = f"JSON.stringify({{...{_TAB_RECORD}, mark: 1}})"
        await page.evaluate(f"sessionStorage.setItem('bunnylogs-viewed', {marked})")
        await page.reload()
        await expect(page.locator(".bl-message")).to_have_text(["before the restart"])
        await page.wait_for_function(f"{_TAB_RECORD}.rows === true && !('mark' in {_TAB_RECORD})")
        await expect(page.get_by_text(LINES_GONE)).to_have_count(0)

        await asyncio.to_thread(app.stop)
        await expect(page.locator(".bl-state")).not_to_have_text("connected", timeout=RESTART_TIMEOUT_MS)
        await asyncio.to_thread(app.start)
        # NiceGUI reloads the page when its socket reaches a server that does not know it.
        notice = page.get_by_text(LINES_GONE)
        await expect(notice).to_be_visible(timeout=RESTART_TIMEOUT_MS)
        await expect(page.locator(".bl-state")).to_have_text("connected", timeout=RESTART_TIMEOUT_MS)
        await expect(page.locator(".bl-empty")).to_be_visible()
        await post_lines(http, app, stream, ["after the restart"])
        await expect(page.locator(".bl-message")).to_have_text(["after the restart"])
        await expect(notice).to_be_visible()  # it stays until the reader closes it
        assert await controls_under(page, ".bl-restart-notice") == []  # in the page's flow, over nothing
        # ... and never over the newest lines, which the view follows at the bottom.
        await post_lines(http, app, stream, [f"line {n}" for n in range(60)])
        newest = page.locator(".bl-row", has_text="line 59")
        await expect(newest).to_be_visible()
        notice_box, newest_box = await notice.bounding_box(), await newest.bounding_box()
        assert notice_box is not None and newest_box is not None
        assert notice_box["y"] + notice_box["height"] <= newest_box["y"] or newest_box["y"] + newest_box["height"] <= \
            notice_box["y"], f"the notice {notice_box} covers the newest line {newest_box}"
        await page.get_by_role("button", name="OK").click()
        await expect(notice).to_have_count(0)
        # Told once: reloading now shows no notice.
        await page.reload()
        await expect(page.locator(".bl-message").last).to_have_text("line 59")
        await expect(page.get_by_text(LINES_GONE)).to_have_count(0)


# socket.io waits up to 5 s between its tries by default; the page caps the wait at 2 s.
LONGEST_RETRY_WAIT_S = 3.0  # the cap plus room for a slow machine; socket.io's own reaches 4 to 5 s
DOWN_FOR_S = 12.0  # long enough for socket.io's own waits to reach their cap


async def test_a_page_retries_its_stopped_server_every_few_seconds_at_most(page: Page) -> None:
    app = AppProcess("--history", "50", port=free_port())
    with running(app):
        await open_stream(page, app.url, new_stream())
        await page.evaluate("""() => { window.__tries = [];
            window.socket.io.on("reconnect_attempt", () => window.__tries.push(performance.now())); }""")
        await asyncio.to_thread(app.stop)
        await expect(page.locator(".bl-state")).not_to_have_text("connected", timeout=RESTART_TIMEOUT_MS)
        await asyncio.sleep(DOWN_FOR_S)
        # The waits between tries, and the one since the last try, all short: a restarted server gets
        # its pages back soon after it is up, however long it was down.
        waits_ms = await page.evaluate("""() => { const t = [...window.__tries, performance.now()];
            return t.slice(1).map((time, n) => time - t[n]); }""")
        assert len(waits_ms) >= 5, waits_ms
        assert max(waits_ms) <= LONGEST_RETRY_WAIT_S * 1000, waits_ms
        await asyncio.to_thread(app.start)
        await expect(page.locator(".bl-state")).to_have_text("connected", timeout=RESTART_TIMEOUT_MS)


# --- controls that grow with what a stream brings ----------------------------------------------------

_CROWDING = """() => {
  const tops = (selector) => new Set([...document.querySelectorAll(selector)]
    .map((element) => Math.round(element.getBoundingClientRect().top))).size;
  const errors = [...document.querySelectorAll('.bl-filter-error, .bl-highlight-error')].filter((e) => !e.hidden);
  return {pageFits: document.scrollingElement.scrollHeight <= innerHeight,
          levelLines: tops('.bl-level-chip'), columnLines: tops('.bl-col-chip'),
          errorLines: errors.map((error) => Math.round(error.getBoundingClientRect().height
                                                        / parseFloat(getComputedStyle(error).lineHeight))),
          rowsShare: document.querySelector('.bl-scroller').getBoundingClientRect().height / innerHeight};
}"""


async def test_many_levels_of_a_stream_s_own_stay_on_one_line_and_the_page_fits_a_low_window(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    # Wrapped, 36 chips took six rows of the toolbar: at 1400x600 the page scrolled, the log's rows 134 px.
    await page.set_viewport_size({"width": 1400, "height": 600})
    stream = new_stream()
    response = await http.post(f"{app_server.url}/live/{stream}",
                               json=[{"message": f"m{n}", "level": f"CUSTOMLEVEL{n:09d}"} for n in range(30)])
    assert response.status_code == 204
    await open_stream(page, app_server.url, stream)
    await expect(page.locator(".bl-level-chip")).to_have_count(35)
    await page.wait_for_function(f"() => ({_CROWDING})().pageFits", timeout=LAYOUT_TIMEOUT_MS)
    crowding = await page.evaluate(_CROWDING)
    assert crowding["levelLines"] == 1 and crowding["rowsShare"] >= 0.3, crowding
    line = page.locator(".bl-levels")
    await line.hover()
    await page.mouse.wheel(0, 400)  # a mouse's wheel scrolls the line sideways
    await page.wait_for_function("document.querySelector('.bl-levels').scrollLeft > 0")
    whole_in_line = """(chip) => { const box = chip.getBoundingClientRect();
      const line = chip.closest('.bl-levels').getBoundingClientRect();
      return box.left >= line.left - 0.5 && box.right <= line.right + 0.5; }"""
    chips = page.locator(".bl-level-chip")
    for index in (0, 20, 34):  # a chip the keys reach comes whole into view
        await chips.nth(index).focus()
        await page.wait_for_function(f"({whole_in_line})(document.querySelectorAll('.bl-level-chip')[{index}])")
    last = chips.last
    await last.click()  # and it still works
    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("hide") == ["CUSTOMLEVEL000000029"])


async def test_on_a_phone_errors_and_column_chips_leave_the_log_its_rows(page: Page, app_server: AppProcess,
                                                                         http: httpx.AsyncClient) -> None:
    # A bad highlight rule's error took five lines of the status bar and six column chips four lines:
    # the log's rows were 165 px of an 800 px window.
    await page.set_viewport_size({"width": 400, "height": 800})
    stream = new_stream()
    response = await http.post(f"{app_server.url}/live/{stream}",
                               json=[{"message": f"aaa {n}", "fields": {f"field{k}": k for k in range(6)}}
                                     for n in range(50)])
    assert response.status_code == 204
    columns = "&".join(f"col=field{k}" for k in range(6))
    await open_stream(page, app_server.url, f"{stream}?hl=red:re:(a%2B)%2B&hl=re:[&{columns}")
    error = page.locator(".bl-highlight-error")
    await expect(error).to_contain_text("Highlight rule 1:")
    await expect(page.locator(".bl-col-chip")).to_have_count(6)
    crowding = await page.evaluate(_CROWDING)
    assert crowding["errorLines"] == [2] and crowding["columnLines"] == 1, crowding
    assert crowding["pageFits"] and crowding["rowsShare"] >= 0.25, crowding
    assert (await error.get_attribute("title") or "").startswith("Highlight rule 1: ")  # whole in its title
    await error.click()
    assert (await page.evaluate(_CROWDING))["errorLines"][0] > 2  # whole when clicked or tapped (touch: no title)
    await error.click()
    assert (await page.evaluate(_CROWDING))["errorLines"] == [2]
