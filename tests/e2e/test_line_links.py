"""Links to a line: each row copies a link (`?at=<entry id>`) that opens the stream at that line, marked,
in the middle of the view, with the lines around it, paused until the reader resumes; `?since=` opens
at a time the same way; a link to a line not kept (or to none) says so and still opens the page."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from dashboard.pages.line_link import NO_LONGER_KEPT, NO_SUCH_LINE, NOT_A_LINE, NOT_A_TIME, NOTHING_AFTER
from dashboard.protocol import view_key
from harness.servers import AppProcess, running_app

from .conftest import HeldOutbox, controls_under, open_stream

HISTORY = 50
VIEW = "getElement(document.querySelector('.bl-log'))"
HELD = f"{VIEW}.logRows.all.map((entry) => entry.message)"
# The marked row's middle against the log's middle, in rows, and whether the page scrolls sideways.
PLACE = """() => {
  const row = document.querySelector('.bl-row.bl-linked').getBoundingClientRect();
  const log = document.querySelector('.bl-scroller').getBoundingClientRect();
  return {off: ((row.top + row.bottom) - (log.top + log.bottom)) / 2 / row.height,
          sideways: document.scrollingElement.scrollWidth > innerWidth};
}"""


@pytest.fixture(scope="module")
def links_app() -> Iterator[AppProcess]:
    with running_app("--history", str(HISTORY), "--max-rows", "1500") as app:
        yield app


@pytest.fixture
async def clipboard_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    yield context
    await context.close()
    assert not errors, errors


async def post_lines(app: AppProcess, stream: str, lines: list[str]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        for start in range(0, len(lines), 1000):
            response = await http.post(f"{app.url}/live/{stream}",
                                       json=[{"message": line} for line in lines[start:start + 1000]])
            assert response.status_code == 204, response.text


async def entry_ids(app: AppProcess, stream: str) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=30) as http:
        found = (await http.get(f"{app.url}/live/{stream}/entries", params={"after": "0", "limit": 1000})).json()
    return {entry["message"]: entry["id"] for entry in found["entries"]}


def numbered(count: int, prefix: str = "line") -> list[str]:
    return [f"{prefix} {n:05d}" for n in range(count)]


async def open_page(context: BrowserContext, url: str) -> Page:
    page = await context.new_page()
    response = await page.goto(url)
    assert response is not None and response.status == 200
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    return page


async def copy_link(page: Page, message: str) -> str:
    """Copy the link to the row of `message` with its button, as a person would; the link copied."""
    row = page.locator(".bl-row", has_text=message)
    await row.hover()
    await row.get_by_role("button", name="Copy a link to this line").click()
    await expect(row.locator(".bl-link")).to_have_attribute("aria-label", "Copied")
    return str(await page.evaluate("navigator.clipboard.readText()"))


async def expect_opened_at(page: Page, message: str, *, centred: bool = True) -> None:
    """The line is marked, in the middle of the log (within a row) unless too near an end, and the page paused."""
    await expect(page.locator(".bl-row.bl-linked .bl-message")).to_have_text(message)
    await expect(page.locator(".bl-row.bl-linked")).to_have_attribute("aria-current", "true")
    await expect(page.locator(".bl-pause")).to_contain_text("Resume")
    place = await page.evaluate(PLACE)
    assert not place["sideways"] and (abs(place["off"]) <= 1 or not centred), place


async def test_a_rows_link_opens_the_stream_at_it_with_its_context_paused_and_resume_goes_live(
        clipboard_context: BrowserContext, links_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    lines = numbered(1000)
    await post_lines(links_app, stream, lines)
    page = await open_page(clipboard_context, f"{links_app.url}/{stream}?q=line&secret=1")
    link = await copy_link(page, "line 00980")
    ids = await entry_ids(links_app, stream)
    # The filter is kept, nothing else the address carried; the link reads, and does not hand on the key
    # that writes.
    assert link == f"{links_app.url}/{view_key(stream)}?q=line&at={ids['line 00980']}"
    await page.close()

    more = numbered(200, "line more")
    await post_lines(links_app, stream, more)
    linked = await open_page(clipboard_context, link)
    await expect_opened_at(linked, "line 00980")
    held = lines + more
    assert await linked.evaluate(HELD) == held[880:1081]  # 100 lines before it, 100 after
    await expect(linked.locator(".bl-paused")).to_have_text("paused · 119 new")  # the rest, waiting
    await expect(linked.locator(".bl-history")).to_have_text(
        "showing 320 of 1,200 lines kept, around the linked line · filter: the 320 rows in this page")
    await post_lines(links_app, stream, ["line live after"])
    await expect(linked.locator(".bl-paused")).to_have_text("paused · 120 new")
    await linked.locator(".bl-pause").click()
    await expect(linked.locator(".bl-message").last).to_have_text("line live after")
    assert await linked.evaluate(HELD) == [*held[880:], "line live after"]  # no gap, nothing twice
    assert "at" not in parse_qs(urlsplit(linked.url).query)  # a reload now opens the live stream
    await post_lines(links_app, stream, ["line following again"])
    await expect(linked.locator(".bl-message").last).to_have_text("line following again")


async def test_a_linked_page_resumed_before_the_server_speaks_stays_resumed(
        page: Page, links_app: AppProcess) -> None:
    """The page opens paused at its line by itself: the server only shows it on the button. (It also
    sent the page a pause, which came after a quick Space and paused it again under a Pause button.)"""
    stream = str(uuid.uuid4())
    await post_lines(links_app, stream, numbered(300))
    ids = await entry_ids(links_app, stream)
    outbox = HeldOutbox()
    await outbox.route(page)
    outbox.hold()  # from the page's first message on
    await open_stream(page, links_app.url, f"{stream}?at={ids['line 00150']}")
    await page.wait_for_function("document.querySelector('.bl-log') && getElement(document.querySelector('.bl-log'))")
    await expect(page.locator(".bl-row.bl-linked .bl-message")).to_have_text("line 00150")
    await page.locator(".bl-scroller").click(position={"x": 5, "y": 5})
    await page.keyboard.press("Space")
    outbox.release()
    await expect(page.locator(".bl-message").last).to_have_text("line 00299")
    await expect(page.locator(".bl-pause")).to_contain_text("Pause")
    await post_lines(links_app, stream, ["line live"])
    await expect(page.locator(".bl-message").last).to_have_text("line live")
    assert not await page.evaluate("getElement(document.querySelector('.bl-log')).logRows.paused")


async def test_following_from_a_line_in_the_middle_is_not_undone_by_that_lines_scroll(
        page: Page, links_app: AppProcess) -> None:
    """Putting a line in the middle scrolls the view; its scroll event can come after the reader already
    resumed (a quick Space on a linked page), and was taken for the reader scrolling up."""
    stream = str(uuid.uuid4())
    await post_lines(links_app, stream, numbered(300))
    await open_stream(page, links_app.url, stream)
    await expect(page.locator(".bl-message").last).to_have_text("line 00299")
    following = await page.evaluate("""async () => {
      const view = getElement(document.querySelector('.bl-log'));
      view.list.showInMiddle(view.logRows.shown[Math.floor(view.logRows.shown.length / 2)]._n);
      view.list.follow();
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
      return view.list.following;
    }""")
    assert following
    await expect(page.locator(".bl-jump")).to_be_hidden()
    await post_lines(links_app, stream, ["line live"])
    await expect(page.locator(".bl-message").last).to_have_text("line live")


async def test_resume_after_more_than_the_server_sends_shows_the_newest_without_a_gap(
        page: Page, links_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    lines = numbered(1500)
    await post_lines(links_app, stream, lines)
    ids = await entry_ids(links_app, stream)
    await open_stream(page, links_app.url, f"{stream}?at={ids['line 00100']}")
    await expect_opened_at(page, "line 00100")
    # The page opened at a line: no connection was lost, so nothing says lines were left out.
    await expect(page.locator(".bl-restart-notice")).to_have_count(0)
    await page.keyboard.press("Space")
    await expect(page.locator(".bl-message").last).to_have_text("line 01499")
    held = await page.evaluate(HELD)
    assert held == lines[-len(held):] and len(held) >= 500  # the newest, contiguous: the context went


@pytest.mark.parametrize(("query", "notice"), [("at=not-a-line", NOT_A_LINE), ("at=99999999999999-0", NOTHING_AFTER),
                                               ("since=last%20week", NOT_A_TIME)])
async def test_a_link_to_no_line_says_so_and_opens_the_live_stream(page: Page, links_app: AppProcess, query: str,
                                                                   notice: str) -> None:
    stream = str(uuid.uuid4())
    await post_lines(links_app, stream, numbered(80))
    await open_stream(page, links_app.url, f"{stream}?{query}")
    await expect(page.locator(".bl-link-notice")).to_contain_text(notice)
    await expect(page.locator(".bl-message").last).to_have_text("line 00079")
    await expect(page.locator(".bl-pause")).to_contain_text("Pause")
    await expect(page.locator(".bl-linked")).to_have_count(0)


async def test_a_link_to_a_line_no_longer_kept_opens_at_the_oldest_kept(page: Page, links_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(links_app, stream, numbered(300))
    await open_stream(page, links_app.url, f"{stream}?at=1000-0")
    await expect(page.locator(".bl-link-notice")).to_contain_text(NO_LONGER_KEPT)
    await expect_opened_at(page, "line 00000", centred=False)  # nothing above it to put in the middle


@pytest.mark.parametrize("width", [390, 1024])
async def test_the_notice_of_a_link_covers_no_control(clipboard_context: BrowserContext, links_app: AppProcess,
                                                      width: int) -> None:
    stream = str(uuid.uuid4())
    await post_lines(links_app, stream, numbered(300))
    page = await clipboard_context.new_page()
    await page.set_viewport_size({"width": width, "height": 800})
    await open_stream(page, links_app.url, f"{stream}?at=1000-0")
    notice = page.locator(".bl-link-notice")
    await expect(notice).to_contain_text(NO_LONGER_KEPT)
    copy = page.get_by_role("button", name="Copy a link that shows this stream but cannot send logs to it")
    notice_box, copy_box = await notice.bounding_box(), await copy.bounding_box()
    assert notice_box is not None and copy_box is not None
    assert (copy_box["y"] >= notice_box["y"] + notice_box["height"]
            or copy_box["y"] + copy_box["height"] <= notice_box["y"]
            or copy_box["x"] >= notice_box["x"] + notice_box["width"]
            or copy_box["x"] + copy_box["width"] <= notice_box["x"]), (notice_box, copy_box)
    assert await controls_under(page, ".bl-link-notice") == []
    await copy.click(timeout=3000)  # nothing in front of it takes the click
    await expect(copy).to_contain_text("Copied")
    await expect(notice).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == f"{links_app.url}/{view_key(stream)}"


async def test_a_link_to_an_id_between_lines_opens_at_the_next(page: Page, links_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(links_app, stream, numbered(150))
    await page.wait_for_timeout(20)  # the next lines get a later millisecond
    await post_lines(links_app, stream, numbered(150, "next"))
    milliseconds, sequence = (await entry_ids(links_app, stream))["line 00149"].split("-")
    await open_stream(page, links_app.url, f"{stream}?at={milliseconds}-{int(sequence) + 1}")
    await expect(page.locator(".bl-link-notice")).to_contain_text(NO_SUCH_LINE)
    await expect_opened_at(page, "next 00000")


async def test_since_opens_at_the_first_line_at_or_after_the_time(page: Page, links_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(links_app, stream, numbered(300))
    await page.wait_for_timeout(50)
    await post_lines(links_app, stream, numbered(300, "later"))
    milliseconds = int((await entry_ids(links_app, stream))["later 00000"].split("-")[0])
    moment = dt.datetime.fromtimestamp(milliseconds / 1000, dt.UTC).isoformat(timespec="milliseconds")
    await open_stream(page, links_app.url, f"{stream}?since={moment.replace('+00:00', 'Z')}")
    await expect_opened_at(page, "later 00000")
    await expect(page.locator(".bl-link-notice")).to_have_count(0)


async def test_a_read_only_page_links_with_its_view_key(clipboard_context: BrowserContext,
                                                       links_app: AppProcess) -> None:
    write = str(uuid.uuid4())
    await post_lines(links_app, write, numbered(60))
    page = await open_page(clipboard_context, f"{links_app.url}/{view_key(write)}")
    link = await copy_link(page, "line 00055")
    assert link.startswith(f"{links_app.url}/{view_key(write)}?at=") and write not in link
    linked = await open_page(clipboard_context, link)
    await expect_opened_at(linked, "line 00055", centred=False)
    await expect(linked.locator(".read-only-badge")).to_be_visible()


@pytest.mark.parametrize(("width", "height"), [(420, 800), (1400, 700)])
async def test_a_linked_line_in_the_middle_at_any_window(page: Page, links_app: AppProcess, width: int,
                                                        height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    stream = str(uuid.uuid4())
    await post_lines(links_app, stream, numbered(400))
    ids = await entry_ids(links_app, stream)
    await open_stream(page, links_app.url, f"{stream}?at={ids['line 00200']}")
    await expect_opened_at(page, "line 00200")
    await page.locator(".bl-row.bl-linked").hover()
    link_button = await page.locator(".bl-row.bl-linked .bl-link").bounding_box()
    assert link_button is not None and link_button["x"] + link_button["width"] <= width
