"""Several streams in one view: `/<a>+<b>` shows both, each row marked with its stream's colour and name."""

from __future__ import annotations

import json
import os
import re
import signal
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Browser, BrowserContext, Locator, Page, WebSocket, expect

from dashboard.pages.stream_keys import MAX_ADDRESS_PARTS, MAX_MERGED_STREAMS
from dashboard.protocol import view_key
from harness.servers import AppProcess, running_app, wait_for_viewers

from .conftest import E2E_HISTORY, download, open_stream, pause

HOSTILE = "<img src=x onerror=\"window.__xss = 1\">"


def new_stream() -> str:
    return str(uuid.uuid4())


async def post(http: httpx.AsyncClient, app: AppProcess, key: str, *messages: str) -> None:
    response = await http.post(f"{app.url}/live/{key}", json=[{"message": message} for message in messages])
    assert response.status_code == 204, response.text


async def open_merged(page: Page, app: AppProcess, *keys: str, query: str = "") -> None:
    await open_stream(page, app.url, "+".join(keys) + query)


def mark_of(page: Page, message: str) -> Locator:
    """The stream mark of the row whose message is `message` (not of a row whose mark holds it: a key may)."""
    exact = page.locator(".bl-message", has_text=re.compile(f"^{re.escape(message)}$"))
    return page.locator(".bl-row", has=exact).locator(".bl-stream-mark")


async def clipboard_page(browser: Browser) -> tuple[BrowserContext, Page]:
    """A page (and its context, to close) that may read what it copied."""
    context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    return context, await context.new_page()


async def copied_line_link(page: Page, row: Locator) -> str:
    """What the row's link button copies."""
    await row.hover()
    await row.locator(".bl-link").click()
    return await page.evaluate("navigator.clipboard.readText()")


async def test_rows_of_both_streams_are_marked_histories_merge_by_time_and_live_rows_come_as_they_arrive(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    a, b = new_stream(), new_stream()
    for key, message in ((a, "a1"), (b, "b1"), (b, "b2"), (a, "a2"), (b, "b3")):  # taken in this order
        await post(http, app_server, key, message)
    await open_merged(page, app_server, a, b)
    await expect(page.locator(".bl-message")).to_have_text(["a1", "b1", "b2", "a2", "b3"])
    await expect(mark_of(page, "a1")).to_have_text(a[:8])
    await expect(mark_of(page, "b1")).to_have_text(b[:8])
    await expect(mark_of(page, "a1")).to_have_class(re.compile(r"\bbl-stream-0\b"))
    await expect(mark_of(page, "b1")).to_have_class(re.compile(r"\bbl-stream-1\b"))
    await expect(page.locator(".bl-stream-chip")).to_have_count(2)
    await expect(page.locator(".send-panel")).to_have_count(0)  # a merged view is for reading
    assert (await page.title()) == "BunnyLogs · 2 streams"

    await post(http, app_server, b, "b4")
    await post(http, app_server, a, "a3")
    await post(http, app_server, b, "b5")
    await expect(page.locator(".bl-message")).to_have_text(["a1", "b1", "b2", "a2", "b3", "b4", "a3", "b5"])
    await expect(mark_of(page, "a3")).to_have_text(a[:8])

    # A dropped socket resumes each stream after its own last row: nothing lost, nothing twice.
    await page.evaluate("window.socket.io.engine.close()")
    await post(http, app_server, a, "a during")
    await post(http, app_server, b, "b during")
    await page.wait_for_function("window.socket.connected")
    await post(http, app_server, a, "a after")
    await expect(page.locator(".bl-count")).to_have_text("11 lines")
    messages = await page.locator(".bl-message").all_text_contents()
    assert messages[-3:] == ["a during", "b during", "a after"] and len(set(messages)) == 11


async def test_a_resume_leaves_out_the_old_lines_of_a_stream_the_page_holds_no_row_of(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    """A stream whose lines are all older than the merged history's start resumes from just before the
    page's newest row: beyond its newest line, its old lines came as new, with a word of lost lines."""
    a, b = new_stream(), new_stream()
    await post(http, app_server, b, "b old 1", "b old 2")
    await post(http, app_server, a, *[f"a {n}" for n in range(E2E_HISTORY + 10)])  # more than a history
    await open_merged(page, app_server, a, b)
    await expect(page.locator(".bl-count")).to_have_text(f"{E2E_HISTORY} lines")  # b's lines are older
    await page.evaluate("window.socket.io.engine.close()")
    await page.wait_for_function("window.socket.connected")
    await post(http, app_server, a, "a after")
    await expect(page.locator(".bl-message").last).to_have_text("a after")
    await expect(page.locator(".bl-count")).to_have_text(f"{E2E_HISTORY + 1} lines")
    await expect(page.locator(".bl-message", has_text="b old")).to_have_count(0)
    await expect(page.get_by_text("resumes after is newer")).to_have_count(0)


async def test_a_chip_hides_its_streams_rows_the_url_keeps_it_and_filters_and_pause_still_apply(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    a, b = new_stream(), new_stream()
    await post(http, app_server, a, "alpha one", "alpha two")
    await post(http, app_server, b, "beta one")
    await open_merged(page, app_server, a, b)
    await expect(page.locator(".bl-message")).to_have_count(3)
    chip_b = page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-toggle')
    await chip_b.click()
    await expect(page.locator(".bl-message")).to_have_text(["alpha one", "alpha two"])
    await expect(chip_b).to_have_attribute("aria-pressed", "false")
    await page.wait_for_url(re.compile(r"hide_stream="))
    assert parse_qs(urlsplit(page.url).query)["hide_stream"] == [b[:8]]

    await page.reload()
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-message")).to_have_text(["alpha one", "alpha two"])
    await expect(page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-toggle')).to_have_attribute(
        "aria-pressed", "false")
    await post(http, app_server, b, "beta hidden live")
    await post(http, app_server, a, "alpha three")
    await expect(page.locator(".bl-message")).to_have_text(["alpha one", "alpha two", "alpha three"])

    await page.locator(".bl-filter-input input").fill("two")
    await expect(page.locator(".bl-message")).to_have_text(["alpha two"])
    await pause(page)
    await expect(page.locator(".bl-paused")).to_have_text("paused · 0 new")
    await post(http, app_server, a, "alpha two again")
    await post(http, app_server, b, "beta two hidden")
    await expect(page.locator(".bl-paused")).to_have_text("paused · 1 new (1 hidden by filter)")
    await page.locator(".bl-pause").click()
    await expect(page.locator(".bl-message")).to_have_text(["alpha two", "alpha two again"])
    await page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-toggle').click()  # shown again
    await expect(page.locator(".bl-message")).to_have_text(["alpha two", "alpha two again", "beta two hidden"])
    await page.wait_for_url(lambda url: "hide_stream" not in url)
    await expect(page.locator(".bl-search-all")).to_be_hidden()


async def test_streams_whose_keys_start_alike_get_names_that_tell_them_apart_and_a_chip_hides_one(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    a = new_stream()
    b = a[:8] + new_stream()[8:]  # the same first 8 characters
    c = new_stream()
    length = next(n for n in range(8, 37) if a[:n] != b[:n])
    await post(http, app_server, a, "alpha")
    await post(http, app_server, b, "beta")
    await post(http, app_server, c, "gamma")
    await open_merged(page, app_server, a, b, c)
    await expect(page.locator(".bl-message")).to_have_text(["alpha", "beta", "gamma"])
    await expect(mark_of(page, "alpha")).to_have_text(a[:length])
    await expect(mark_of(page, "beta")).to_have_text(b[:length])
    await expect(mark_of(page, "gamma")).to_have_text(c[:length])
    await expect(page.locator(".bl-stream-name")).to_have_text([a[:length], b[:length], c[:length]])
    await page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-toggle').click()
    await expect(page.locator(".bl-message")).to_have_text(["alpha", "gamma"])
    await page.wait_for_url(re.compile(r"hide_stream="))
    assert parse_qs(urlsplit(page.url).query)["hide_stream"] == [b[:length]]
    await page.reload()
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-message")).to_have_text(["alpha", "gamma"])
    log = await download(page, "log")
    assert f"[{a[:length]}] INFO api alpha" in log and f"[{b[:length]}]" not in log
    # An old link by 8 characters: it hides the stream it names alone, and nothing where two start so.
    await open_merged(page, app_server, a, b, c, query=f"?hide_stream={a[:8]}")
    await expect(page.locator(".bl-message")).to_have_text(["alpha", "beta", "gamma"])
    await open_merged(page, app_server, a, b, c, query=f"?hide_stream={c[:8]}")
    await expect(page.locator(".bl-message")).to_have_text(["alpha", "beta"])
    await expect(page.locator('.bl-stream-chip[data-stream="2"] .bl-stream-toggle')).to_have_attribute(
        "aria-pressed", "false")
    await page.goto(f"{app_server.url}/")  # the recent list keeps the view with its names
    await expect(page.locator(".bl-recent-item").first.locator(".bl-recent-name")).to_have_text(
        [a[:length], b[:length], c[:length]])


async def test_streams_are_added_and_removed_from_the_page(page: Page, app_server: AppProcess,
                                                           http: httpx.AsyncClient) -> None:
    a, b, c = new_stream(), new_stream(), new_stream()
    await post(http, app_server, c, "from c")
    await open_merged(page, app_server, a, b)
    adder = page.locator(".bl-stream-add-input")
    await adder.fill("no key in this")
    await adder.press("Enter")
    await expect(page.get_by_text("No stream key there")).to_be_visible()
    await adder.fill(f"{app_server.url}/live/{c.upper()}?level=info")  # a POST URL works too
    await adder.press("Enter")
    await page.wait_for_url(f"{app_server.url}/{a}+{b}+{c}")
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-stream-chip")).to_have_count(3)
    await expect(mark_of(page, "from c")).to_have_class(re.compile(r"\bbl-stream-2\b"))

    await page.locator('.bl-stream-chip[data-stream="0"] .bl-stream-toggle').click()  # hide a, then remove b
    await page.wait_for_url(re.compile(r"hide_stream="))
    await page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-remove').click()
    await page.wait_for_url(f"{app_server.url}/{a}+{c}?hide_stream={a[:8]}")
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-stream-chip")).to_have_count(2)
    await page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-remove').click()
    await page.wait_for_url(f"{app_server.url}/{a}")  # one stream left: its own page
    await expect(page.locator(".send-panel")).to_have_count(1)


async def test_a_label_s_control_and_bidi_characters_show_escaped_as_in_log_text(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    """A name typed or pasted with a right-to-left override showed reversed in the chips, the rows' marks
    and the landing page's recent list."""
    a, b = new_stream(), new_stream()
    await post(http, app_server, a, "from a")
    await post(http, app_server, b, "from b")
    await open_merged(page, app_server, a, b)
    await expect(page.locator(".bl-message")).to_have_count(2)
    await page.locator('.bl-stream-chip[data-stream="0"] .bl-stream-edit').click()
    await page.locator(".bl-stream-rename").fill("\u202eexe.live\u200b bell\x07")
    await page.locator(".bl-stream-rename").press("Enter")
    shown = "\\u202eexe.live\\u200b bell\\x07"
    await expect(mark_of(page, "from a")).to_have_text(shown)
    await expect(page.locator('.bl-stream-chip[data-stream="0"] .bl-stream-name')).to_have_text(shown)
    # Renamed again without a change, the name stays as typed (escaped in the box, it grew past 40
    # characters and was cut).
    await page.locator('.bl-stream-chip[data-stream="0"] .bl-stream-edit').click()
    await expect(page.locator(".bl-stream-rename")).to_have_value("\u202eexe.live\u200b bell\x07")
    await page.locator(".bl-stream-rename").press("Enter")
    await expect(mark_of(page, "from a")).to_have_text(shown)
    await page.goto(app_server.url)
    await expect(page.locator(".bl-recent-item").first.locator(".bl-recent-name").first).to_have_text(shown)


async def test_a_label_names_the_stream_in_rows_downloads_and_the_recent_list_and_is_only_text(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    a, b = new_stream(), new_stream()
    await post(http, app_server, a, "from a")
    await post(http, app_server, b, "from b")
    await open_merged(page, app_server, a, view_key(b))
    await expect(page.locator(".bl-message")).to_have_count(2)
    await page.locator('.bl-stream-chip[data-stream="0"] .bl-stream-edit').click()
    await page.locator(".bl-stream-rename").fill("prod api")
    await page.locator(".bl-stream-rename").press("Enter")
    await expect(mark_of(page, "from a")).to_have_text("prod api")
    await page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-edit').click()
    await page.locator(".bl-stream-rename").fill(HOSTILE)
    await page.locator(".bl-stream-rename").press("Enter")
    await expect(mark_of(page, "from b")).to_have_text(HOSTILE)
    await expect(page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-name')).to_have_text(HOSTILE)
    await expect(page.locator('.bl-stream-chip[data-stream="1"] .bl-stream-ro')).to_have_text("read-only")

    log_text = await download(page, "log")
    assert [line.split(" ", 1)[1] for line in log_text.splitlines()] == [
        "[prod api] INFO api from a", f"[{HOSTILE}] INFO api from b"]
    ndjson = [json.loads(line) for line in (await download(page, "ndjson")).splitlines()]
    assert [(row["stream"], row["message"]) for row in ndjson] == [("prod api", "from a"), (HOSTILE, "from b")]

    await page.reload()  # the names are this browser's: they stay
    await expect(mark_of(page, "from a")).to_have_text("prod api")
    await page.goto(app_server.url)
    newest = page.locator(".bl-recent-item").first
    await expect(newest.locator(".bl-recent-name")).to_have_text(["prod api", HOSTILE])
    await expect(newest.locator(".bl-stream-ro")).to_have_text(["read-only"])
    assert await newest.locator("a").get_attribute("href") == f"/{a}+{view_key(b)}"
    assert await page.evaluate("window.__xss") is None
    assert await page.locator(".bl-recent img").count() == 0

    await open_stream(page, app_server.url, a)  # a stream's own page keeps its name, and lists itself
    await page.goto(app_server.url)
    await expect(page.locator(".bl-recent-item").first.locator(".bl-recent-name")).to_have_text(["prod api"])
    count = await page.locator(".bl-recent-item").count()
    await page.locator(".bl-recent-item").first.locator(".bl-recent-forget").click()
    await expect(page.locator(".bl-recent-item")).to_have_count(count - 1)
    await expect(page.locator(".bl-recent-item").first.locator("a")).to_have_attribute("href", f"/{a}+{view_key(b)}")
    await page.locator(".bl-recent-item").first.locator("a").click()
    await page.wait_for_url(f"{app_server.url}/{a}+{view_key(b)}")


async def test_a_read_only_merged_view_holds_no_write_key_in_the_page_or_on_its_socket(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    a, b = new_stream(), new_stream()
    frames: list[str] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framereceived", lambda frame: frames.append(frame if isinstance(frame, str) else repr(frame)))
        socket.on("framesent", lambda frame: frames.append(frame if isinstance(frame, str) else repr(frame)))

    page.on("websocket", watch)
    await post(http, app_server, a, "history of a")
    await open_merged(page, app_server, view_key(a), view_key(b))
    await post(http, app_server, b, "live of b")
    await expect(page.locator(".bl-message")).to_have_text(["history of a", "live of b"])
    await expect(page.locator(".bl-stream-ro")).to_have_count(2)
    assert (await page.title()).endswith("read-only")
    html = (await page.content()).lower()
    for write in (a, b):
        assert write not in html and write.replace("-", "") not in html
        assert all(write not in frame.lower() for frame in frames)
    assert "post to" not in html, html[html.index("post to") - 300:html.index("post to") + 100]
    await expect(page.locator(".send-panel")).to_have_count(0)
    assert frames, "the socket's messages were seen"


async def test_malformed_and_too_long_addresses_are_answered_clearly(page: Page, app_server: AppProcess) -> None:
    a = new_stream()
    for path in (f"{a}+garbage", f"{a}+", f"{a}++{a}", f"{a}+%3Cb%3E"):
        response = await page.goto(f"{app_server.url}/{path}")
        assert response is not None and response.status == 404, path
        await expect(page.get_by_role("heading", name="No such stream")).to_be_visible()
        assert "garbage" not in await page.content()
    keys = [new_stream() for _ in range(MAX_MERGED_STREAMS + 1)]
    response = await page.goto(f"{app_server.url}/{'+'.join(keys)}")
    assert response is not None and response.status == 400
    await expect(page.get_by_role("heading", name="Too many streams")).to_be_visible()
    await expect(page.get_by_text(f"at most {MAX_MERGED_STREAMS} streams")).to_be_visible()
    # Upper case, repeats, and a stream named twice by its two keys: one address for the view.
    response = await page.goto(f"{app_server.url}/{a.upper()}+{keys[0]}+{a}+{view_key(keys[0])}?q=x")
    assert response is not None and response.status == 200
    assert page.url == f"{app_server.url}/{a}+{keys[0]}?q=x"
    await page.goto(f"{app_server.url}/{a}+{a}")
    assert page.url == f"{app_server.url}/{a}"
    # Repeats are counted once collapsed: 33 times one stream is that stream's page.
    response = await page.goto(f"{app_server.url}/{'+'.join([a, keys[1].upper()] * 33)}")
    assert response is not None and response.status == 200
    assert page.url == f"{app_server.url}/{a}+{keys[1]}"
    response = await page.goto(f"{app_server.url}/{'+'.join([a] * (MAX_ADDRESS_PARTS + 1))}")
    assert response is not None and response.status == 400
    await expect(page.get_by_role("heading", name="Address too long")).to_be_visible()


async def test_the_merged_view_fits_narrow_and_wide_windows(page: Page, app_server: AppProcess,
                                                            http: httpx.AsyncClient) -> None:
    keys = [new_stream() for _ in range(4)]
    for key in keys:
        await post(http, app_server, key, f"a long line of {key} " + "x" * 300)
    for width, height in ((420, 800), (1400, 700)):
        await page.set_viewport_size({"width": width, "height": height})
        await open_merged(page, app_server, *keys)
        for index in range(4):
            await page.locator(f'.bl-stream-chip[data-stream="{index}"] .bl-stream-edit').click()
            await page.locator(".bl-stream-rename").fill("a rather long name for a stream " * 2)
            await page.locator(".bl-stream-rename").press("Enter")
        await expect(page.locator(".bl-message")).to_have_count(4)
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (width, height)
        scroller = await page.locator(".bl-scroller").bounding_box()
        assert scroller is not None and scroller["height"] > 0.3 * height
        for row in await page.locator(".bl-line").all():
            box = await row.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width + 1


async def test_a_merged_page_is_a_viewer_of_each_stream_and_unsubscribes_all_on_close(
        browser: Browser, http: httpx.AsyncClient) -> None:
    with running_app("--viewers-per-stream", "1", "--page-reconnect-seconds", "1") as app:
        a, b = new_stream(), new_stream()
        context = await browser.new_context()
        viewer = await context.new_page()
        await open_merged(viewer, app, a, b)
        assert await wait_for_viewers(app.url, 2) == 2
        health = (await http.get(f"{app.url}/healthz")).json()
        assert health["viewers"] == 2
        # Each stream has its one viewer: a page of either stream is refused, as on any full stream.
        other = await context.new_page()
        await other.goto(f"{app.url}/{view_key(b)}")
        await expect(other.get_by_text("This stream has too many viewers right now")).to_be_visible()
        await other.close()
        await context.close()
        await wait_for_viewers(app.url, 0)
        again = await browser.new_context()
        await open_stream(await again.new_page(), app.url, b)  # its place is free again
        await wait_for_viewers(app.url, 1)
        await again.close()


async def test_a_streams_own_page_adds_another_stream_and_a_line_link_opens_in_the_lines_stream(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    context, page = await clipboard_page(browser)
    a, b = new_stream(), new_stream()
    await post(http, app_server, b, "line of b")
    await open_stream(page, app_server.url, view_key(a) + "?q=of")
    await page.locator(".bl-add-stream").click()
    await page.locator(".bl-add-stream-input input").fill(f"{app_server.url}/{b}")
    await page.locator(".bl-add-stream-input input").press("Enter")
    await page.wait_for_url(f"{app_server.url}/{view_key(a)}+{b}?q=of")
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-message")).to_have_text(["line of b"])
    row = page.locator(".bl-row", has_text="line of b")
    link = await copied_line_link(page, row)
    entry_id = await row.get_attribute("data-id")
    # b was given by its write key, but a link is for sharing: it opens b's read-only page (as main's links do).
    assert link == f"{app_server.url}/{view_key(b)}?q=of&at={entry_id}"

    # A link to a line names one stream: on a merged view it is said so, and the view opens live.
    await page.goto(f"{app_server.url}/{view_key(a)}+{b}?at={entry_id}")
    await expect(page.locator(".bl-link-notice")).to_contain_text("opens in that line's own stream")
    await expect(page.locator(".bl-message")).to_have_text(["line of b"])
    await expect(page.locator(".bl-paused")).to_be_hidden()
    await page.goto(f"{app_server.url}/{view_key(a)}+{b}?since=15m")  # so is a link to a time
    await expect(page.locator(".bl-link-notice")).to_contain_text("one to a time (since=) in one stream's page")
    await context.close()


async def test_highlights_the_volume_strip_columns_and_line_links_work_over_a_merged_views_rows(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    context, page = await clipboard_page(browser)
    a, b = new_stream(), new_stream()
    for key, user in ((a, "ann"), (b, "bob")):
        response = await http.post(f"{app_server.url}/live/{key}",
                                   json=[{"message": f"login of {user}", "fields": {"user": user}}])
        assert response.status_code == 204, response.text
    await open_merged(page, app_server, a, b, query="?col=user&hl=red:bob")
    rows = page.locator(".bl-row")
    await expect(rows.locator(".bl-message")).to_have_text(["login of ann", "login of bob"])
    await expect(rows.nth(0).locator(".bl-stream-mark")).to_have_text(a[:8])  # the mark, then the columns
    await expect(rows.locator(".bl-col")).to_have_text(["ann", "bob"])
    await expect(rows.nth(1)).to_have_class(re.compile(r"\bbl-marked-0\b"), timeout=10_000)
    await expect(rows.nth(0)).not_to_have_class(re.compile(r"bl-marked"))
    await expect(page.locator(".bl-strip")).to_be_visible()

    # Both streams are given by their write keys; each row's link opens its own stream, read-only.
    for index, key in enumerate((a, b)):
        row = rows.nth(index)
        link = await copied_line_link(page, row)
        assert link.startswith(f"{app_server.url}/{view_key(key)}?") and key not in link
        assert parse_qs(urlsplit(link).query)["at"] == [await row.get_attribute("data-id")]
    await context.close()


async def test_a_merged_view_with_a_write_key_offers_a_read_only_link_of_the_same_streams(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    context, page = await clipboard_page(browser)
    write, other = new_stream(), new_stream()
    view_url = f"{app_server.url}/{view_key(write)}+{view_key(other)}"
    await open_merged(page, app_server, write, view_key(other))  # one write key is enough to offer it
    await expect(page.locator(".read-only-url")).to_have_text(f"Read-only link: {view_url}")
    copy = page.get_by_role("button", name="Copy a link that shows these streams but cannot send logs to them")
    await copy.click()
    assert await page.evaluate("navigator.clipboard.readText()") == view_url
    await page.goto(view_url)
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".read-only-url")).to_have_count(0)  # nothing more to hide on a read-only view
    await expect(page.get_by_text("2 streams · read-only")).to_be_visible()
    for stream in (write, other):
        assert (await http.post(f"{app_server.url}/live/{stream}", data={"message": f"to {stream}"})).status_code == 204
    await expect(page.locator(".bl-message")).to_have_text([f"to {write}", f"to {other}"])
    refused = await http.post(f"{app_server.url}/live/{view_key(write)}", data={"message": "through the link"})
    assert refused.status_code == 403
    await context.close()


async def test_on_redis_rows_of_both_streams_that_one_read_brings_keep_their_stream(
        page: Page, redis_url: str, http: httpx.AsyncClient) -> None:
    """The page's process was held while another took lines of both streams: its next Redis read brought
    them together, merged by ID, and they went live with no stream (no mark, shown with a stream's chip off)."""
    with running_app("--redis-url", redis_url) as shown_by, \
            running_app("--role", "ingest", "--redis-url", redis_url) as taken_by:
        a, b = new_stream(), new_stream()
        await open_merged(page, shown_by, a, b)
        assert shown_by.process is not None
        os.kill(shown_by.process.pid, signal.SIGSTOP)
        try:
            for n in range(3):
                for stream, name in ((a, "a"), (b, "b")):
                    answer = await http.post(f"{taken_by.url}/live/{stream}", data={"message": f"{name}{n}"})
                    assert answer.status_code == 204
        finally:
            os.kill(shown_by.process.pid, signal.SIGCONT)
        await expect(page.locator(".bl-message")).to_have_text(["a0", "b0", "a1", "b1", "a2", "b2"])
        for name, index in (("a", 0), ("b", 1)):
            for n in range(3):
                await expect(mark_of(page, f"{name}{n}")).to_have_class(re.compile(rf"\bbl-stream-{index}\b"))
        saved = [json.loads(line) for line in (await download(page, "ndjson")).splitlines()]
        assert [(line["message"], line["stream"]) for line in saved] == [
            (f"{name}{n}", (a if name == "a" else b)[:8]) for n in range(3) for name in "ab"]
