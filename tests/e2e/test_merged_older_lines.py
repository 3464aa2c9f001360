"""A merged view goes back in time like a stream's page: it opens with the newest lines of all its
streams (no hole where a busy stream's history ends), loads both streams' older lines as the reader
scrolls to the top, searches everything they keep, and a reload keeps its rows."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
from playwright.async_api import Page, expect

from harness.servers import AppProcess, running_app, running_redis

from .conftest import HeldOutbox, open_stream
from .test_older_lines import HISTORY, START, VIEW, numbered, older_app, post_lines, scroll_to_top

__all__ = ["older_app"]  # the module's server, as test_older_lines runs it (--history 100, --max-rows 1500)

# Each row the page holds, oldest first: its message and its stream's index.
HELD_MARKED = f"{VIEW}.logRows.all.map((entry) => [entry.message, entry._s])"


async def post_in_turns(app: AppProcess, turns: list[tuple[str, list[str]]]) -> None:
    """Post each batch in turn, each in a later millisecond than the one before (no two streams' IDs tie)."""
    async with httpx.AsyncClient(timeout=30) as http:
        for stream, lines in turns:
            response = await http.post(f"{app.url}/live/{stream}", json=[{"message": line} for line in lines])
            assert response.status_code == 204, response.text
            await asyncio.sleep(0.003)


async def test_scrolling_up_a_merged_view_loads_both_streams_older_lines_in_order_to_the_start(
        page: Page, older_app: AppProcess) -> None:
    busy, quiet = str(uuid.uuid4()), str(uuid.uuid4())
    turns, expected = [], []
    for turn in range(30):  # 20 lines of the busy stream to each 5 of the quiet one
        busy_lines, quiet_lines = numbered(20, f"busy {turn:02d}"), numbered(5, f"quiet {turn:02d}")
        turns += [(busy, busy_lines), (quiet, quiet_lines)]
        expected += [[line, 0] for line in busy_lines] + [[line, 1] for line in quiet_lines]
    await post_in_turns(older_app, turns)
    await open_stream(page, older_app.url, f"{busy}+{quiet}")
    # Each stream's newest 100, from where both are whole: the busy one's reach back 5 turns, so
    # the quiet one's 25 of those turns; its older ones come with the older lines.
    await expect(page.locator(".bl-history")).to_have_text("showing the newest 125 of 750")
    assert await page.evaluate(HELD_MARKED) == expected[-125:]
    for held in (625, 750):
        await scroll_to_top(page)
        await expect(page.locator(".bl-count")).to_have_text(f"{held:,} lines")
        assert await page.evaluate(HELD_MARKED) == expected[-held:]
    await expect(page.locator(".bl-history")).to_be_hidden()
    await scroll_to_top(page)
    await expect(page.locator(".bl-older")).to_have_text(START)
    await expect(page.locator(".bl-row").first.locator(".bl-stream-mark")).to_have_text(busy[:8])
    await expect(page.locator(".bl-message").first).to_have_text("busy 00 00000")


async def test_a_merged_view_counts_the_lines_of_each_stream_that_come_before_the_count(
        page: Page, older_app: AppProcess) -> None:
    """As a stream's page does (test_older_lines): each stream's lines newer than its newest counted."""
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await post_in_turns(older_app, [(first, numbered(300, "first")), (second, numbered(300, "second"))])
    outbox = HeldOutbox()
    await outbox.route(page)
    outbox.hold(from_marker="setKept")
    await open_stream(page, older_app.url, f"{first}+{second}")
    for _ in range(100):
        if outbox.held:
            break
        await asyncio.sleep(0.1)
    assert outbox.held, "the server says how many lines it keeps once the page follows"
    held = len(await page.evaluate(HELD_MARKED))
    await post_in_turns(older_app, [(second, ["second live 0"]), (first, ["first live 0"]),
                                    (second, ["second live 1"])])
    await expect(page.locator(".bl-count")).to_have_text(f"{held + 3} lines")
    outbox.release()
    await expect(page.locator(".bl-history")).to_have_text(f"showing the newest {held + 3} of 603")
    await post_in_turns(older_app, [(first, ["first live 1"])])
    await expect(page.locator(".bl-history")).to_have_text(f"showing the newest {held + 4} of 604")


async def test_a_merged_view_counts_each_stream_up_to_what_the_bus_keeps_of_it(page: Page) -> None:
    """A stream at its length keeps no more as lines come: the other stream's room is not its own (the
    page said 1,900 kept where the bus kept 1,100)."""
    full, quiet = str(uuid.uuid4()), str(uuid.uuid4())
    with running_app("--history", str(HISTORY), "--max-stream-length", "1000") as app:
        await post_in_turns(app, [(full, numbered(1000, "full")), (quiet, numbered(100, "quiet"))])
        await open_stream(page, app.url, f"{full}+{quiet}")
        await expect(page.locator(".bl-history")).to_contain_text(" of 1,100")
        await post_in_turns(app, [(full, numbered(100, f"more {turn}")) for turn in range(8)])
        await expect(page.locator(".bl-message").last).to_have_text("more 7 00099")
        held = len(await page.evaluate(HELD_MARKED))
        await expect(page.locator(".bl-history")).to_have_text(f"showing the newest {held:,} of 1,100")


async def test_a_merged_view_loads_the_older_lines_of_a_stream_it_hides(page: Page, older_app: AppProcess) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await post_in_turns(older_app, [(a, numbered(150, "a")), (b, numbered(150, "b"))])
    await open_stream(page, older_app.url, f"{a}+{b}?hide_stream={b[:8]}")
    await expect(page.locator(".bl-history")).to_have_text(f"showing the newest {HISTORY} of 300")
    await expect(page.locator(".bl-count")).to_have_text(f"{HISTORY} lines")  # b's newest, hidden
    await page.locator(".bl-scroller").focus()
    await page.keyboard.press("Home")  # nothing shown to scroll: Home asks
    await expect(page.locator(".bl-count")).to_have_text("300 lines")
    assert await page.evaluate(HELD_MARKED) == [[line, 0] for line in numbered(150, "a")] + \
        [[line, 1] for line in numbered(150, "b")]
    assert await page.evaluate(f"{VIEW}.logRows.shown.map((entry) => entry.message)") == numbered(150, "a")
    await page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-toggle').click()
    await page.wait_for_function(f"{VIEW}.logRows.shown.length === 300")


async def test_search_all_on_a_merged_view_finds_the_older_matches_of_both_streams(
        page: Page, older_app: AppProcess) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    old_b, old_a = numbered(1000, "b"), numbered(9000, "a")
    old_b[5], old_a[5] = "b 00005 needle", "a 00005 needle"
    old_a[-10] = "a 08990 needle in the page"
    await post_lines(older_app, b, old_b)  # b's lines are all older than a's
    await post_lines(older_app, a, old_a)
    await open_stream(page, older_app.url, f"{a}+{b}?q=needle")
    await expect(page.locator(".bl-message")).to_have_text(["a 08990 needle in the page"])
    await expect(page.locator(".bl-history")).to_have_text(
        f"showing the newest {HISTORY} of 10,000 · filter: the {HISTORY} rows in this page")
    await page.get_by_role("button", name="search all 10,000 kept lines").click()
    # The scan's 10,000 lines are split between the two streams: a's 5,000 newest, then b's; what
    # b had below where a's stopped is searched again by "search further", which goes on from there.
    await expect(page.locator(".bl-history")).to_have_text(
        re.compile(r"^filter: searched the newest [\d,]+ of 10,000 lines kept$"))
    further = page.get_by_role("button", name="search further")
    while await further.is_visible():
        await further.click()
        await page.wait_for_function(f"!{VIEW}.older.loading")
    await expect(page.locator(".bl-message")).to_have_text(
        ["b 00005 needle", "a 00005 needle", "a 08990 needle in the page"])
    await expect(page.locator(".bl-history")).to_have_text("filter: all 10,000 lines kept · 2 older matches")
    assert [mark for _, mark in await page.evaluate(HELD_MARKED)][:2] == [1, 0]


async def test_search_all_leaves_out_a_stream_the_view_hides(page: Page, older_app: AppProcess) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    old_a, old_b = numbered(300, "a"), numbered(300, "b")
    old_a[3], old_b[3] = "a 00003 needle", "b 00003 needle"
    await post_in_turns(older_app, [(a, old_a), (b, old_b)])
    await open_stream(page, older_app.url, f"{a}+{b}?q=needle&hide_stream={b[:8]}")
    await page.get_by_role("button", name="search all 600 kept lines").click()
    await expect(page.locator(".bl-history")).to_have_text("filter: all 600 lines kept · 1 older match")
    assert [row for row in await page.evaluate(HELD_MARKED) if "needle" in row[0]] == [["a 00003 needle", 0]]
    # Shown again, the stream's rows come back as they were held, and the search is over: it can search again.
    await page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-toggle').click()
    await page.get_by_role("button", name="search all 600 kept lines").click()
    await expect(page.locator(".bl-message")).to_have_text(["a 00003 needle", "b 00003 needle"])


async def test_a_reloaded_merged_view_gets_back_every_row_it_held(page: Page, older_app: AppProcess) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await open_stream(page, older_app.url, f"{a}+{b}")
    await post_in_turns(older_app, [(a if turn % 3 else b, numbered(30, f"turn {turn:02d}")) for turn in range(12)])
    await expect(page.locator(".bl-count")).to_have_text("360 lines")
    held = await page.evaluate(HELD_MARKED)
    await page.reload()
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-count")).to_have_text("360 lines")  # not the history's 100 of each
    assert await page.evaluate(HELD_MARKED) == held
    await post_in_turns(older_app, [(b, ["after the reload"])])
    await expect(page.locator(".bl-message").last).to_have_text("after the reload")
    assert len(await page.evaluate(HELD_MARKED)) == 361


async def test_after_a_dropped_socket_a_stream_the_view_holds_no_row_of_sends_only_what_is_new(
        page: Page, older_app: AppProcess) -> None:
    quiet, busy = str(uuid.uuid4()), str(uuid.uuid4())
    await post_in_turns(older_app, [(quiet, numbered(5, "quiet")), (busy, numbered(150, "busy"))])
    await open_stream(page, older_app.url, f"{busy}+{quiet}")
    await expect(page.locator(".bl-count")).to_have_text(f"{HISTORY} lines")  # quiet's lines are older
    await page.evaluate("window.socket.io.engine.close()")
    await post_in_turns(older_app, [(quiet, ["quiet during the drop"])])
    await page.wait_for_function("window.socket.connected")
    await expect(page.locator(".bl-count")).to_have_text(f"{HISTORY + 1} lines")
    assert (await page.evaluate(HELD_MARKED))[-2:] == [["busy 00149", 0], ["quiet during the drop", 1]]
    await scroll_to_top(page)  # and its older lines come above, once
    await expect(page.locator(".bl-count")).to_have_text("156 lines")
    assert [message for message, _ in await page.evaluate(HELD_MARKED)] == \
        numbered(5, "quiet") + numbered(150, "busy") + ["quiet during the drop"]


async def test_on_the_redis_bus_a_merged_view_loads_older_lines_the_same(page: Page) -> None:
    with running_redis() as redis, running_app("--redis-url", redis.url, "--history", "50") as app:
        a, b = str(uuid.uuid4()), str(uuid.uuid4())
        turns = [(a if turn % 2 else b, numbered(40, f"turn {turn:02d}")) for turn in range(10)]
        await post_in_turns(app, turns)
        await open_stream(page, app.url, f"{a}+{b}")
        # a's newest 50 go back to the 31st line of turn 7, b's further: the view opens from there.
        await expect(page.locator(".bl-history")).to_have_text("showing the newest 90 of 400")
        await scroll_to_top(page)
        await expect(page.locator(".bl-count")).to_have_text("400 lines")
        assert await page.evaluate(HELD_MARKED) == [[line, 0 if turn % 2 else 1] for turn, (_, lines)
                                                    in enumerate(turns) for line in lines]
        await scroll_to_top(page)
        await expect(page.locator(".bl-older")).to_have_text(START)
