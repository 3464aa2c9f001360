"""The whole history, not just the newest rows: the page says how much of what the bus keeps it holds,
loads older lines as the reader scrolls to the top (the rows in view staying put) up to the start
of the stream or --max-rows, and searches every line kept on request, saying which it searched."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
import redis as redis_client
from playwright.async_api import Page, expect

from dashboard.pages.page_follow import RESUME_ENTRIES
from dashboard.protocol import view_key
from harness.servers import AppProcess, running_app, running_redis

from .conftest import HeldOutbox, open_stream

HISTORY = 100
MAX_ROWS = 1500
CAPPED_ROWS = 150
VIEW = "getElement(document.querySelector('.bl-log'))"
HELD = f"{VIEW}.logRows.all.map((entry) => entry.message)"
START = "start of the stream"


@pytest.fixture(scope="module")
def older_app() -> Iterator[AppProcess]:
    with running_app("--history", str(HISTORY), "--max-rows", str(MAX_ROWS), "--max-stream-length", "20000") as app:
        yield app


@pytest.fixture(scope="module")
def capped_app() -> Iterator[AppProcess]:
    with running_app("--history", str(HISTORY), "--max-rows", str(CAPPED_ROWS)) as app:
        yield app


async def post_lines(app: AppProcess, stream: str, lines: list[str]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        for start in range(0, len(lines), 1000):
            batch = [{"message": line} for line in lines[start:start + 1000]]
            response = await http.post(f"{app.url}/live/{stream}", json=batch)
            assert response.status_code == 204, response.text


def numbered(count: int, prefix: str = "line") -> list[str]:
    return [f"{prefix} {n:05d}" for n in range(count)]


# Records, for each batch of older rows put above the others, the row at the top of the view and its
# place on the screen just before and just after.
WATCH_PREPENDS = f"""() => {{
  const view = {VIEW};
  const topRow = () => {{
    const box = document.querySelector('.bl-scroller').getBoundingClientRect();
    const row = document.elementFromPoint(box.left + 60, box.top + 5).closest('.bl-row');
    return [row.querySelector('.bl-message').textContent, row.getBoundingClientRect().top];
  }};
  window.prepends = [];
  const prepend = view.prepend.bind(view);
  view.prepend = (entries) => {{
    const before = topRow();
    prepend(entries);
    const [message] = before;
    const id = view.logRows.all.find((entry) => entry.message === message).id;
    const after = document.querySelector(`.bl-row[data-id="${{id}}"]`).getBoundingClientRect().top;
    window.prepends.push([before, [message, after]]);
  }};
}}"""


async def scroll_to_top(page: Page) -> None:
    await page.locator(".bl-scroller").evaluate("scroller => { scroller.scrollTop = 0; }")


async def test_the_status_says_how_much_of_what_is_kept_the_page_holds(page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(1200))
    await open_stream(page, older_app.url, stream)
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 100 of 1,200")
    await post_lines(older_app, stream, numbered(5, "live"))  # counted as they arrive
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 105 of 1,205")
    await expect(page.locator(".bl-search-all")).to_be_hidden()  # no filter: nothing to search


async def test_lines_that_come_before_the_count_are_counted_on_top_of_it(page: Page, older_app: AppProcess) -> None:
    """The count comes through NiceGUI's outbox, the rows through the faster feed: lines posted after the
    server counted can reach the page first, and must not be left out (they were, 1 in 2 times, while
    lines flowed as a page opened)."""
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(1200))
    outbox = HeldOutbox()
    await outbox.route(page)
    outbox.hold(from_marker="setKept")
    await open_stream(page, older_app.url, stream)
    for _ in range(100):
        if outbox.held:
            break
        await asyncio.sleep(0.1)
    assert outbox.held, "the server says how many lines it keeps once the page follows"
    for n in range(5):  # one by one: each comes as its own live batch
        await post_lines(older_app, stream, [f"live {n}"])
    await expect(page.locator(".bl-count")).to_have_text("105 lines")
    outbox.release()
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 105 of 1,205")
    await post_lines(older_app, stream, numbered(3, "after"))
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 108 of 1,208")


async def drop_socket(page: Page) -> None:
    """Cut the page's socket and keep it from coming back until `bring_back`."""
    await page.context.set_offline(True)
    await page.evaluate("window.socket.io.engine.close()")


async def bring_back(page: Page) -> None:
    await page.context.set_offline(False)
    await page.wait_for_function("window.socket.connected", timeout=30_000)


async def test_lines_missed_while_the_socket_was_down_are_counted(page: Page, older_app: AppProcess) -> None:
    """They come again after the drop, with the history's mark: counted too (they were not, and a page
    that held more than it thought kept stopped offering older lines). A drop longer than a resume
    carries leaves lines out of the page: the server counts again."""
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(1200))
    await open_stream(page, older_app.url, stream)
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 100 of 1,200")
    await drop_socket(page)
    await post_lines(older_app, stream, numbered(30, "missed"))
    await bring_back(page)
    await expect(page.locator(".bl-count")).to_have_text("130 lines")
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 130 of 1,230")
    await drop_socket(page)
    await post_lines(older_app, stream, numbered(RESUME_ENTRIES + 200, "long gone"))
    await bring_back(page)
    await expect(page.locator(".bl-count")).to_have_text(f"{130 + RESUME_ENTRIES:,} lines")
    await expect(page.locator(".bl-history")).to_have_text(
        f"showing the newest {130 + RESUME_ENTRIES:,} of {1230 + RESUME_ENTRIES + 200:,}")


async def test_a_stream_the_page_holds_whole_says_nothing_of_the_sort(page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(30))
    await open_stream(page, older_app.url, stream)
    await expect(page.locator(".bl-count")).to_have_text("30 lines")
    await page.locator(".bl-scroller").hover()
    await page.mouse.wheel(0, -400)  # at the top already: asks, and is told there is nothing older
    await expect(page.locator(".bl-older")).to_have_text(START)
    await expect(page.locator(".bl-history")).to_be_hidden()
    assert await page.evaluate(HELD) == numbered(30)


async def test_scrolling_to_the_top_loads_older_lines_keeping_the_row_in_view_until_the_start(
        page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    lines = numbered(1200)
    await post_lines(older_app, stream, lines)
    await open_stream(page, older_app.url, stream)
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 100 of 1,200")
    await page.evaluate(WATCH_PREPENDS)
    for held in (600, 1100, 1200):
        await scroll_to_top(page)
        await expect(page.locator(".bl-count")).to_have_text(f"{held:,} lines")
    prepends = await page.evaluate("window.prepends")
    assert len(prepends) == 3
    for (message, top), (same_message, top_after) in prepends:
        assert message == same_message and abs(top - top_after) < 1  # the row at the top stayed put
    await expect(page.locator(".bl-history")).to_be_hidden()
    assert await page.evaluate(HELD) == lines
    await scroll_to_top(page)
    await expect(page.locator(".bl-older")).to_have_text(START)
    await expect(page.locator(".bl-message").first).to_have_text("line 00000")
    # The notice lies over the first row: it fades away, and the row can be read.
    await expect(page.locator(".bl-older")).to_have_css("opacity", "0", timeout=6000)


async def test_home_and_page_up_at_the_top_load_older_lines_also_while_paused(page: Page,
                                                                             older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(700))
    await open_stream(page, older_app.url, stream)
    await expect(page.locator(".bl-count")).to_have_text("100 lines")
    await page.keyboard.press("Space")
    await expect(page.locator(".bl-paused")).to_be_visible()
    await page.keyboard.press("Home")  # to the top, which asks
    await expect(page.locator(".bl-count")).to_have_text("600 lines")
    await scroll_to_top(page)
    await page.keyboard.press("PageUp")  # at the top: asks for the rest
    await expect(page.locator(".bl-count")).to_have_text("700 lines")
    await post_lines(older_app, stream, ["while paused"])
    await expect(page.locator(".bl-paused")).to_have_text("paused · 1 new")
    await expect(page.locator(".bl-history")).to_be_hidden()


async def test_a_key_at_the_top_before_the_last_answer_came_is_not_lost(page: Page, older_app: AppProcess) -> None:
    # The rows of an ask came before the word that it was done: PageUp at the top in between was dropped
    # (CI, loaded: the count stayed at 600).
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(700))
    await open_stream(page, older_app.url, stream)
    await expect(page.locator(".bl-count")).to_have_text("100 lines")
    await page.evaluate("""() => {
      const view = getElement(document.querySelector('.bl-log'));
      const done = view.olderDone;
      view.olderDone = (answer) => setTimeout(() => done.call(view, answer), 1000);  // the word comes late
    }""")
    await page.keyboard.press("Home")  # to the top, which asks
    await expect(page.locator(".bl-count")).to_have_text("600 lines")
    await scroll_to_top(page)
    await page.keyboard.press("PageUp")  # at the top, before the answer's end came: asked once it has
    await expect(page.locator(".bl-count")).to_have_text("700 lines")


async def test_older_lines_pass_the_filter(page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, [f"line {n:05d} {'even' if n % 2 == 0 else 'odd'}" for n in range(400)])
    await open_stream(page, older_app.url, f"{stream}?q=odd")
    await expect(page.locator(".bl-shown")).to_have_text("50 shown")
    await scroll_to_top(page)
    await expect(page.locator(".bl-shown")).to_have_text("200 shown")
    assert all(text.endswith("odd") for text in await page.locator(".bl-message").all_inner_texts())


async def test_max_rows_stops_the_loading_and_says_where_older_lines_are(page: Page, capped_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(capped_app, stream, numbered(400))
    await open_stream(page, capped_app.url, stream)
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 100 of 400")
    await scroll_to_top(page)
    await expect(page.locator(".bl-count")).to_have_text(f"{CAPPED_ROWS} lines")
    cap = f"keeping at most {CAPPED_ROWS} rows; older lines: bunnylogs tail --since, or /entries?before="
    await expect(page.locator(".bl-history")).to_have_text(f"showing the newest {CAPPED_ROWS} of 400 · {cap}")
    await scroll_to_top(page)
    await expect(page.locator(".bl-older")).to_have_text(cap)
    assert await page.evaluate(HELD) == numbered(400)[-CAPPED_ROWS:]


async def test_a_page_cannot_make_the_server_read_in_a_loop(page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(300))
    await open_stream(page, older_app.url, stream)
    await expect(page.locator(".bl-count")).to_have_text("100 lines")
    first = await page.evaluate(f"{VIEW}.logRows.oldestId()")
    await page.evaluate(f"""() => {{
      const view = {VIEW};
      window.answers = 0;
      const done = view.olderDone.bind(view);
      view.olderDone = (answer) => {{ window.answers++; done(answer); }};
      window.asker = setInterval(() => view.$emit('older', {{before: '{first}', held: 0, search: false}}), 5);
    }}""")
    await page.wait_for_timeout(1500)
    await page.evaluate("clearInterval(window.asker)")
    await page.wait_for_timeout(500)
    answers = await page.evaluate("window.answers")
    assert 1 <= answers <= 9, answers  # one at a time, at most one each 0.25 s: not ~300


async def test_search_all_finds_a_line_only_the_bus_holds_and_says_what_it_searched(
        page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    lines = numbered(1200)
    lines[40] = "line 00040 needle in the haystack"
    lines[1150] = "line 01150 needle in the page"
    await post_lines(older_app, stream, lines)
    await open_stream(page, older_app.url, f"{stream}?q=needle")
    await expect(page.locator(".bl-message")).to_have_text(["line 01150 needle in the page"])
    await expect(page.locator(".bl-history")).to_have_text(
        "showing the newest 100 of 1,200 · filter: the 100 rows in this page")
    await page.get_by_role("button", name="search all 1,200 kept lines").click()
    await expect(page.locator(".bl-message")).to_have_text(
        ["line 00040 needle in the haystack", "line 01150 needle in the page"])
    await expect(page.locator(".bl-history")).to_have_text("filter: all 1,200 lines kept · 1 older match")
    await expect(page.locator(".bl-search-all")).to_be_hidden()
    await expect(page.locator(".bl-count")).to_have_text("101 lines")
    # Another filter: the matches of the search go, and the filter covers the page's rows again.
    await page.locator(".bl-filter-input input").fill("line 011")
    await expect(page.locator(".bl-history")).to_have_text(
        "showing the newest 100 of 1,200 · filter: the 100 rows in this page")
    assert await page.evaluate(HELD) == lines[-100:]
    await expect(page.locator(".bl-count")).to_have_text("100 lines")  # not the search's match gone since


async def test_a_search_that_stops_early_says_so_and_searches_further(page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    lines = numbered(13_000)
    lines[5] = "line 00005 the rare one"
    await post_lines(older_app, stream, lines)
    await open_stream(page, older_app.url, f"{stream}?q=rare")
    await page.get_by_role("button", name="search all 13,000 kept lines").click()
    # The server scans at most 10,000 lines (or 0.5 s) per ask.
    await expect(page.locator(".bl-history")).to_have_text(
        re.compile(r"^filter: searched the newest [\d,]+ of 13,000 lines kept$"))
    await expect(page.locator(".bl-row")).to_have_count(0)
    further = page.get_by_role("button", name="search further")
    while await page.locator(".bl-row").count() == 0:
        await further.click()
        await page.wait_for_function(f"!{VIEW}.older.loading")
    await expect(page.locator(".bl-message")).to_have_text(["line 00005 the rare one"])
    await expect(page.locator(".bl-history")).to_have_text("filter: all 13,000 lines kept · 1 older match")


async def test_a_filter_re2_refuses_is_not_offered_further_until_it_changes(page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(1200))
    # A program too large for the server's search (4,512 instructions in google-re2), not for the page's (511 in re2js).
    await open_stream(page, older_app.url, f"{stream}?re=1&q={quote('line 01|[^c]{500}c')}")
    await page.get_by_role("button", name="search all 1,200 kept lines").click()
    await expect(page.locator(".bl-history")).to_contain_text("search: ")
    await expect(page.locator(".bl-history")).to_contain_text("RE2")
    await expect(page.locator(".bl-search-all")).to_be_hidden()
    await page.evaluate(f"{VIEW}.older.asked = false")
    await scroll_to_top(page)  # nor asked again by scrolling to the top
    await page.wait_for_function(f"{VIEW}.older.asked")
    assert not await page.evaluate(f"{VIEW}.older.loading")
    await expect(page.locator(".bl-history")).to_contain_text("RE2")
    await page.locator(".bl-filter-input input").fill("line 001")  # another filter: offered again
    await expect(page.get_by_role("button", name="search all 1,200 kept lines")).to_be_visible()
    await expect(page.locator(".bl-history")).not_to_contain_text("search: ")



async def test_a_filter_the_page_refuses_is_not_searched_for_on_the_server(page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(1200))
    await open_stream(page, older_app.url, f"{stream}?re=1&q=(a%2B)%2B")  # a nested repeat: the page refuses it
    await expect(page.locator(".bl-filter-error")).to_be_visible()
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 100 of 1,200")
    await expect(page.locator(".bl-search-all")).to_be_hidden()
    await page.locator(".bl-filter-input input").fill("line 001")  # a filter it applies: offered
    await expect(page.get_by_role("button", name="search all 1,200 kept lines")).to_be_visible()


async def test_a_filter_with_field_conditions_is_not_offered_a_search_the_server_would_refuse(
        page: Page, older_app: AppProcess) -> None:
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(1200))
    await open_stream(page, older_app.url, f"{stream}?q=line%20status%3D500")
    await expect(page.locator(".bl-history")).to_have_text(
        "showing the newest 100 of 1,200 · filter: the 100 rows in this page (search all takes no field conditions)")
    await expect(page.locator(".bl-search-all")).to_be_hidden()
    await page.locator(".bl-filter-input input").fill("line 001")  # the text alone: offered
    await expect(page.get_by_role("button", name="search all 1,200 kept lines")).to_be_visible()
    await page.locator(".bl-filter-input input").fill("status=500")
    await expect(page.locator(".bl-search-all")).to_be_hidden()
    await page.locator(".bl-regex").click()  # one regular expression: no conditions, offered
    await expect(page.get_by_role("button", name="search all 1,200 kept lines")).to_be_visible()


async def test_a_read_only_page_loads_and_searches_older_lines_the_same(page: Page, older_app: AppProcess) -> None:
    write = str(uuid.uuid4())
    lines = numbered(700)
    lines[3] = "line 00003 needle"
    await post_lines(older_app, write, lines)
    await open_stream(page, older_app.url, view_key(write))
    await expect(page.locator(".read-only-badge")).to_be_visible()
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 100 of 700")
    await scroll_to_top(page)
    await expect(page.locator(".bl-count")).to_have_text("600 lines")
    await page.locator(".bl-filter-input input").fill("needle")
    await page.get_by_role("button", name="search all 700 kept lines").click()
    await expect(page.locator(".bl-message")).to_have_text(["line 00003 needle"])


@pytest.mark.parametrize(("width", "height"), [(420, 800), (1400, 700)])
async def test_the_texts_fit_the_window(page: Page, capped_app: AppProcess, width: int, height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    stream = str(uuid.uuid4())
    await post_lines(capped_app, stream, [f"line {n} needle" for n in range(1000)])
    await open_stream(page, capped_app.url, f"{stream}?q=needle")
    await scroll_to_top(page)
    await expect(page.locator(".bl-history")).to_contain_text("keeping at most 150 rows")
    await scroll_to_top(page)
    await expect(page.locator(".bl-older")).to_be_visible()
    fits = await page.evaluate("""() => {
      const older = document.querySelector('.bl-older').getBoundingClientRect();
      return document.scrollingElement.scrollWidth <= innerWidth && older.left >= 0 && older.right <= innerWidth
        && document.querySelector('.bl-history').getBoundingClientRect().right <= innerWidth;
    }""")
    assert fits


async def test_on_the_redis_bus_older_lines_load_the_same(page: Page) -> None:
    with running_redis() as redis, running_app("--redis-url", redis.url, "--history", "50") as app:
        stream = str(uuid.uuid4())
        lines = numbered(300)
        await post_lines(app, stream, lines)
        await open_stream(page, app.url, stream)
        await expect(page.locator(".bl-history")).to_have_text("showing the newest 50 of 300")
        await scroll_to_top(page)
        await expect(page.locator(".bl-count")).to_have_text("300 lines")
        assert await page.evaluate(HELD) == lines
        await scroll_to_top(page)
        await expect(page.locator(".bl-older")).to_have_text(START)


async def kept_on_the_page(page: Page) -> int | None:
    kept: int | None = await page.evaluate(f"{VIEW}.older.kept")
    return kept


async def test_on_the_redis_bus_a_redis_that_lost_its_data_is_counted_again(page: Page) -> None:
    """Redis came back empty (a FLUSHALL here): the page is told, and counts from what Redis keeps now;
    the rows it holds from before are no longer kept (it went on counting from 300)."""
    with running_redis() as redis, running_app("--redis-url", redis.url, "--history", "50") as app:
        stream = str(uuid.uuid4())
        await post_lines(app, stream, numbered(300))
        await open_stream(page, app.url, stream)
        await expect(page.locator(".bl-history")).to_have_text("showing the newest 50 of 300")
        control = redis_client.Redis.from_url(redis.url)
        try:
            control.flushall()
        finally:
            control.close()
        await post_lines(app, stream, numbered(5, "after"))  # the process finds the epoch gone, and says so
        await expect(page.locator(".bl-message").last).to_have_text("after 00004")
        for _ in range(100):
            if await kept_on_the_page(page) == 5:
                break
            await asyncio.sleep(0.1)
        assert await kept_on_the_page(page) == 5


async def test_a_stream_the_bus_holds_nothing_of_counts_only_what_comes_after(page: Page,
                                                                             older_app: AppProcess) -> None:
    """The server's count of an emptied stream (newest: none) covers none of the rows the page holds:
    they are of what the bus no longer keeps (they were all counted on top of it)."""
    stream = str(uuid.uuid4())
    await post_lines(older_app, stream, numbered(30))
    await open_stream(page, older_app.url, stream)
    await expect(page.locator(".bl-count")).to_have_text("30 lines")
    for _ in range(100):  # the server's own count first
        if await kept_on_the_page(page) == 30:
            break
        await asyncio.sleep(0.1)
    await page.evaluate(f"{VIEW}.older.setKept([0], 20000, [null])")  # as the server says of an emptied stream
    assert await kept_on_the_page(page) == 0
    await post_lines(older_app, stream, numbered(3, "new"))
    await expect(page.locator(".bl-count")).to_have_text("33 lines")
    assert await kept_on_the_page(page) == 3


async def test_a_search_the_bus_could_not_answer_offers_to_try_again(page: Page) -> None:
    with running_redis() as redis, running_app("--redis-url", redis.url, "--history", "50") as app:
        stream = str(uuid.uuid4())
        await post_lines(app, stream, numbered(300))
        await open_stream(page, app.url, f"{stream}?q=line")
        search_all = page.get_by_role("button", name="search all 300 kept lines")
        await expect(search_all).to_be_visible()
        redis.stop()
        await search_all.click()
        await expect(page.locator(".bl-history")).to_contain_text("search: the log bus is unavailable",
                                                                  timeout=20_000)
        await expect(page.get_by_role("button", name="try again")).to_be_visible()
        await expect(page.get_by_role("button", name="search further")).to_have_count(0)
