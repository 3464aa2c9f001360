"""Columns from fields in a real browser: any key seen (a dotted path for nested ones, a JSON message's
too) added as a column from the Columns bar, kept in the URL, removable; `key=value`, `key!=value` and
`key~regex` in the filter box; hostile keys stay text; the layout holds on a phone and a wide window."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from dashboard.protocol import view_key
from harness.servers import AppProcess

from .conftest import download, open_stream, pause

HOSTILE = "<img src=x onerror=window.pwned=1>"
ORDERS = (
    {"message": "GET /a", "fields": {"user": {"id": 7, "name": "ann"}, "status": 200}},
    {"message": "GET /b timeout", "fields": {"user": {"id": 8}, "status": 500}},
    {"message": json.dumps({"status": 404, "path": "/c"})},  # the message itself is a JSON object
    {"message": "no fields here"},
)


def new_stream() -> str:
    return str(uuid.uuid4())


async def post(http: httpx.AsyncClient, app: AppProcess, stream: str, *entries: dict[str, Any]) -> None:
    response = await http.post(f"{app.url}/live/{stream}", json=list(entries))
    assert response.status_code == 204, response.text


def columns_param(page: Page) -> list[str]:
    return parse_qs(urlsplit(page.url).query).get("col", [])


async def cells(page: Page, column: int) -> list[str]:
    texts: list[str] = await page.locator(".bl-row").evaluate_all(
        "(rows, column) => rows.map((row) => row.querySelectorAll('.bl-col')[column]?.textContent ?? null)", column)
    return texts


async def expect_cells(page: Page, column: int, expected: list[str]) -> None:
    """Wait (up to 5 s) until the rows' cells of `column` read `expected`: a column is drawn after a round trip."""
    deadline = time.monotonic() + 5
    while (found := await cells(page, column)) != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert found == expected


async def offered(page: Page) -> list[str]:
    options: list[str] = await page.locator(".bl-col-add option").evaluate_all(
        "(options) => options.slice(1).map((option) => option.value)")
    return options


async def filter_by(page: Page, text: str) -> None:
    await page.locator(".bl-filter-input input").fill(text)


async def test_add_columns_from_the_keys_seen_and_remove_them_the_url_keeping_them(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, {"message": "plain"})
    await expect(page.locator(".bl-message")).to_have_text(["plain"])
    await expect(page.locator(".bl-columns")).to_be_hidden()  # no field seen yet: nothing to offer
    await post(http, app_server, stream, *ORDERS)
    await expect(page.locator(".bl-columns")).to_be_visible()
    await page.wait_for_function("document.querySelectorAll('.bl-col-add option').length === 5")
    assert await offered(page) == ["path", "status", "user.id", "user.name"]
    await page.locator(".bl-col-add").select_option("user.id")
    await expect(page.locator(".bl-col-chip")).to_have_text([re.compile(r"^user\.id")])
    await expect_cells(page, 0, ["", "7", "8", "", ""])
    await page.locator(".bl-col-add").select_option("status")
    await expect_cells(page, 1, ["", "200", "500", "404", ""])  # the JSON message's own key too
    await expect(page.locator(".bl-message").nth(3)).to_have_text(json.dumps({"status": 404, "path": "/c"}))
    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("col") == ["user.id", "status"])
    assert await offered(page) == ["path", "user.name"]
    await page.get_by_role("button", name="Remove the column user.id").click()
    await expect(page.locator(".bl-col-chip")).to_have_text([re.compile(r"^status")])
    await expect_cells(page, 0, ["", "200", "500", "404", ""])
    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("col") == ["status"])
    # New rows get the columns as they come; an object shows as compact JSON.
    await page.locator(".bl-col-add").select_option("user.name")
    await post(http, app_server, stream,
               {"message": "nested", "fields": {"status": {"code": 1}, "user": {"name": "bo"}}})
    await expect(page.locator(".bl-row").last.locator(".bl-col")).to_have_text(['{"code":1}', "bo"])


async def test_a_link_with_columns_reproduces_them_leniently(page: Page, app_server: AppProcess,
                                                             http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await post(http, app_server, stream, *ORDERS)
    odd = "&".join(f"col={quote(value)}" for value in ("status", "", "x" * 500, "status", "user.id", "missing"))
    await open_stream(page, app_server.url, f"{stream}?{odd}")
    await expect(page.locator(".bl-col-chip")).to_have_text(
        [re.compile(r"^status"), re.compile(r"^user\.id"), re.compile(r"^missing")])
    await expect(page.locator(".bl-message")).to_have_count(4)
    await expect_cells(page, 0, ["200", "500", "404", ""])
    await expect_cells(page, 1, ["7", "8", "", ""])
    await expect_cells(page, 2, ["", "", "", ""])


async def test_the_filter_box_takes_field_conditions(page: Page, app_server: AppProcess,
                                                     http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, *ORDERS)
    await expect(page.locator(".bl-message")).to_have_count(4)
    cases = {
        "status=500": ["GET /b timeout"],
        "user.id=7": ["GET /a"],
        "status!=200": ["GET /b timeout", json.dumps({"status": 404, "path": "/c"})],
        "path~^/C$": [json.dumps({"status": 404, "path": "/c"})],
        "GET status~5": ["GET /b timeout"],  # text and a condition together
        "nope=1": [],  # an unknown key matches nothing
        'user.name="ann"': ["GET /a"],
    }
    for text, expected in cases.items():
        await filter_by(page, text)
        await expect(page.locator(".bl-message")).to_have_text(expected)
    await filter_by(page, "timeout status=500")
    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("q") == ["timeout status=500"])
    await expect(page.locator(".bl-hl-match")).to_have_text(["timeout"])  # the text part is marked
    await page.locator(".bl-invert").click()  # not: the rows that do not meet it all
    await expect(page.locator(".bl-message")).to_have_count(3)
    await page.locator(".bl-invert").click()
    await filter_by(page, "path~(a+)+")  # refused as a regular expression filter is, and said why
    await expect(page.locator(".bl-filter-error")).to_contain_text("repeats a group")
    await page.locator(".bl-regex").click()  # with .* it is one regular expression over the text
    await filter_by(page, 'status": 404')
    await expect(page.locator(".bl-message")).to_have_text([json.dumps({"status": 404, "path": "/c"})])
    # A link carries the conditions.
    await open_stream(page, app_server.url, f"{stream}?q={quote('user.id=8')}")
    await expect(page.locator(".bl-message")).to_have_text(["GET /b timeout"])


async def test_hostile_keys_and_values_stay_text(page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    fields = {"__proto__": {"polluted": "yes"}, "constructor": "c", HOSTILE: HOSTILE, "toString": "t",
              "a\u202eb": "bidi"}
    await post(http, app_server, stream, {"message": "evil", "fields": fields}, {"message": "plain"})
    await open_stream(page, app_server.url, stream)
    await expect(page.locator(".bl-message")).to_have_count(2)
    await page.wait_for_function("document.querySelectorAll('.bl-col-add option').length === 6")
    assert sorted(await offered(page)) == sorted(["__proto__.polluted", "constructor", HOSTILE, "toString", "a\u202eb"])
    option_text = await page.locator(".bl-col-add option").all_inner_texts()
    assert "a\\u202eb" in option_text and "a\u202eb" not in option_text  # shown escaped
    for key in (HOSTILE, "__proto__.polluted", "constructor", "toString"):
        await page.locator(".bl-col-add").select_option(key)
    await expect_cells(page, 0, [HOSTILE, ""])
    await expect_cells(page, 1, ["yes", ""])
    await expect_cells(page, 2, ["c", ""])
    await expect_cells(page, 3, ["t", ""])  # "plain" has no toString of its own: empty
    assert await page.locator(".bl-log img").count() == 0
    assert await page.evaluate("window.pwned === undefined && ({}).polluted === undefined")
    for text, expected in (("constructor=c", ["evil"]), ("toString=t", ["evil"]), ("hasOwnProperty=x", []),
                           ("__proto__.polluted=yes", ["evil"]), (f"{HOSTILE}", [])):
        await filter_by(page, text)
        await expect(page.locator(".bl-message")).to_have_text(expected)
    await page.wait_for_url(lambda url: HOSTILE in columns_param(page))
    await page.reload()
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-col-chip").first).to_have_text(re.compile(re.escape(HOSTILE)))
    assert await page.locator(".bl-log img").count() == 0
    assert await page.evaluate("window.pwned === undefined")



async def test_a_column_key_with_a_line_break_is_one_line_written_with_escapes(page: Page, app_server: AppProcess,
                                                                             http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await post(http, app_server, stream, {"message": "odd key", "fields": {"nl\nkey": 1}})
    await open_stream(page, app_server.url, f"{stream}?col=nl%0Akey")
    await expect(page.locator(".bl-col-chip")).to_have_text(re.compile(r"^nl\\nkey"))
    await expect_cells(page, 0, ["1"])


# Where a column chip's name and remove button are, and the window's width.
_CHIP = """(chip) => {
  const box = chip.getBoundingClientRect();
  const remove = chip.querySelector('.bl-col-remove').getBoundingClientRect();
  return { removeInside: remove.width > 0 && remove.left >= box.left - 0.5 && remove.right <= box.right + 0.5
             && remove.right <= innerWidth, cut: (chip.querySelector('.bl-col-name') ?? chip).scrollWidth > box.width };
}"""


@pytest.mark.parametrize("width", [1400, 420])
async def test_a_long_key_s_column_can_be_removed_and_one_longer_than_a_link_keeps_is_not_offered(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, width: int) -> None:
    # The chip cut its own text: a long key pushed the remove button out, and the column stayed for good.
    # A key of over 200 characters was added, and silently left out of the link.
    await page.set_viewport_size({"width": width, "height": 800})
    stream = new_stream()
    long_key, too_long_key, emoji_key = "k" * 150, "t" * 201, "\U0001f600" * 120  # 120 characters, 240 in JS
    await post(http, app_server, stream, {"message": "wide", "fields": {long_key: 1, too_long_key: 2, emoji_key: 3}})
    await open_stream(page, app_server.url, stream)
    await page.wait_for_function("document.querySelectorAll('.bl-col-add option').length === 4")
    assert await page.locator(".bl-col-add option").evaluate_all(
        "(options) => options.filter((option) => !option.disabled).length") == 3  # the emoji key can be chosen
    too_long = page.locator(".bl-col-add option", has_text="(too long for a column)")
    await expect(too_long).to_have_count(1)
    assert await too_long.evaluate("(option) => option.disabled && option.value.length") == 201
    await page.locator(".bl-col-add").select_option(long_key)
    await expect_cells(page, 0, ["1"])
    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("col") == [long_key])
    chip = page.locator(".bl-col-chip")
    assert await chip.evaluate(_CHIP) == {"removeInside": True, "cut": True}
    await expect(chip).to_have_attribute("title", long_key)
    await page.get_by_role("button", name=f"Remove the column {long_key}").click()
    await expect(chip).to_have_count(0)
    await page.wait_for_url(lambda url: "col=" not in url)


LAYOUTS = [(420, 800), (1400, 700)]

_LAYOUT = """() => {
  const rows = [...document.querySelectorAll('.bl-row')];
  const boxes = rows.map((row) => row.getBoundingClientRect());
  const newest = boxes[boxes.length - 1];
  const scroller = document.querySelector('.bl-scroller').getBoundingClientRect();
  const cells = [...rows[rows.length - 1].querySelectorAll('.bl-col')].map((cell) => cell.getBoundingClientRect());
  return {
    sideways: document.scrollingElement.scrollWidth > innerWidth,
    contiguous: boxes.every((box, i) => i === 0 || Math.abs(box.top - boxes[i - 1].bottom) < 1),
    newestInView: newest.top >= scroller.top && newest.bottom <= scroller.bottom + 0.5,
    cellsInside: cells.length === 2 && cells.every((cell) => cell.left >= 0 && cell.right <= innerWidth
      && cell.top >= newest.top && cell.bottom <= newest.bottom + 0.5),
  };
}"""


@pytest.mark.parametrize(("width", "height"), LAYOUTS, ids=[f"{w}x{h}" for w, h in LAYOUTS])
async def test_columns_fit_the_window(page: Page, app_server: AppProcess, http: httpx.AsyncClient,
                                      width: int, height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    stream = new_stream()
    long_value = "v" * 300
    await post(http, app_server, stream, *[{"message": f"line {n} " + "word " * 30,
                                             "fields": {"user": {"id": n}, "long": long_value}} for n in range(60)])
    await open_stream(page, app_server.url, f"{stream}?col=user.id&col=long")
    newest_cells = page.locator(".bl-row").last.locator(".bl-col")
    await expect(newest_cells).to_have_text(["59", long_value[:200]])  # drawn cut short, and cut off by its width
    await expect(newest_cells.nth(1)).to_have_attribute("title", f"long: {long_value}")  # whole in its title
    await page.wait_for_function(f"() => {{ const l = ({_LAYOUT})(); return l.contiguous && l.newestInView; }}")
    layout = await page.evaluate(_LAYOUT)
    assert layout == {"sideways": False, "contiguous": True, "newestInView": True, "cellsInside": True}, layout
    await expect(page.locator(".bl-row").last.locator(".bl-message")).to_be_visible()


# Where the newest row's message and its cells are.
_MESSAGE_AND_CELLS = """() => {
  const row = [...document.querySelectorAll('.bl-row')].at(-1);
  const message = row.querySelector('.bl-message').getBoundingClientRect();
  const cells = [...row.querySelectorAll('.bl-col')].map((cell) => cell.getBoundingClientRect());
  return { messageWidth: message.width, cellsBelow: cells.every((cell) => cell.top >= message.bottom - 0.5) };
}"""


@pytest.mark.parametrize("width", [420, 360])
async def test_columns_on_a_touch_phone_go_below_a_message_as_wide_as_the_row(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient, width: int) -> None:
    """A phone's row is time, level and program, then the message over the row's width, then the
    columns. With touch (the copy and link buttons always shown) the message was squeezed into a
    column beside the program, 54 px wide at 420 px and 24 at 360."""
    context = await browser.new_context(has_touch=True, is_mobile=True, viewport={"width": width, "height": 800})
    try:
        page = await context.new_page()
        stream = new_stream()
        await post(http, app_server, stream, *[{"message": f"line {n} " + "word " * 30, "fields": {"status": 200 + n}}
                                               for n in range(50)])
        await open_stream(page, app_server.url, f"{stream}?col=status")
        await expect(page.locator(".bl-row").last.locator(".bl-col")).to_have_text(["249"])
        await page.wait_for_function(f"() => {{ const l = ({_LAYOUT})(); return l.contiguous && l.newestInView; }}")
        layout = await page.evaluate(_LAYOUT)
        assert not layout["sideways"] and layout["contiguous"] and layout["newestInView"], layout
        placed = await page.evaluate(_MESSAGE_AND_CELLS)
        assert placed["messageWidth"] >= width / 2 and placed["cellsBelow"], placed
    finally:
        await context.close()


async def test_columns_on_a_read_only_page_with_pause_and_download(page: Page, app_server: AppProcess,
                                                                   http: httpx.AsyncClient) -> None:
    write = new_stream()
    await post(http, app_server, write, *ORDERS)
    await open_stream(page, app_server.url, f"{view_key(write)}?col=status")
    await expect(page.locator(".bl-message")).to_have_count(4)  # the history drawn
    await expect_cells(page, 0, ["200", "500", "404", ""])
    await pause(page)
    await expect(page.locator(".bl-paused")).to_have_text("paused · 0 new")
    await post(http, app_server, write, {"message": "while paused", "fields": {"status": 201}})
    await expect(page.locator(".bl-paused")).to_have_text("paused · 1 new")
    await page.locator(".bl-pause").click()
    await expect(page.locator(".bl-row").last.locator(".bl-col")).to_have_text(["201"])
    await filter_by(page, "status=500")
    await expect(page.locator(".bl-message")).to_have_text(["GET /b timeout"])
    # Downloads are the entries as they are, whatever the columns: the .ndjson has all their fields.
    lines = [json.loads(line) for line in (await download(page, "ndjson")).splitlines()]
    assert [line["fields"] for line in lines] == [{"user": {"id": 8}, "status": 500}]


EIGHT_FIELDS = {f"field{n}": f"value {n} " + "x" * 40 for n in range(8)}
# The message cell's and each field cell's box in the newest row, the row's box, and whether the page
# scrolls sideways.
_EIGHT_COLUMNS_LAYOUT = """() => {
  const rows = document.querySelectorAll('.bl-row');
  const row = rows[rows.length - 1];
  const box = (element) => { const r = element.getBoundingClientRect(); return {left: r.left, right: r.right,
    width: r.width, top: r.top, bottom: r.bottom}; };
  return {message: box(row.querySelector('.bl-message')), row: box(row), sideways:
    document.scrollingElement.scrollWidth > innerWidth, cells: [...row.querySelectorAll('.bl-col')].map(box)};
}"""


@pytest.mark.parametrize("width", [390, 1024, 1600])
async def test_eight_columns_leave_the_message_a_readable_width_and_every_value_readable(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, width: int) -> None:
    await page.set_viewport_size({"width": width, "height": 800})
    stream = new_stream()
    message = "the message that must stay readable " * 4
    await post(http, app_server, stream, *[{"message": f"{n} {message}", "fields": EIGHT_FIELDS} for n in range(20)])
    query = "&".join(f"col={key}" for key in EIGHT_FIELDS)
    await open_stream(page, app_server.url, f"{stream}?{query}")
    newest = page.locator(".bl-row").last
    await expect(newest.locator(".bl-col")).to_have_count(8)
    await expect(newest.locator(".bl-col").last).to_have_text(EIGHT_FIELDS["field7"])
    layout = await page.evaluate(_EIGHT_COLUMNS_LAYOUT)
    assert not layout["sideways"], layout
    # At least 40 characters of the message show (30 ch of 0.82rem monospace is some 240 px), or, on a
    # phone, where it has lines of its own, most of the row's width.
    char_width = await newest.locator(".bl-message").evaluate(
        "(cell) => { const probe = document.createElement('span'); probe.textContent = 'x'.repeat(100);"
        " cell.append(probe); const width = probe.getBoundingClientRect().width / 100; probe.remove();"
        " return width; }")
    wanted = min(40 * char_width, 0.8 * layout["row"]["width"])
    assert layout["message"]["width"] >= wanted, (layout["message"], wanted)
    assert layout["message"]["right"] <= width + 0.5
    # Each cell shows at least the start of its value, inside the row.
    assert all(cell["width"] >= 3.5 * char_width and layout["row"]["left"] <= cell["left"]
               and cell["right"] <= layout["row"]["right"] + 0.5 for cell in layout["cells"]), layout
    # Every value can be read: whole in its cell's title, and in the row opened.
    for n, key in enumerate(EIGHT_FIELDS):
        await expect(newest.locator(".bl-col").nth(n)).to_have_attribute("title", f"{key}: {EIGHT_FIELDS[key]}")
    await newest.locator(".bl-message").click()
    json_text = await page.locator(".bl-open .bl-fields-json").text_content()
    assert all(value in (json_text or "") for value in EIGHT_FIELDS.values())


# The opened row's box, each of its parts' bottom, and the top of the row after it.
_OPENED_ROW = """() => {
  const row = document.querySelector('.bl-row.bl-open');
  const next = row.nextElementSibling;
  const bottoms = [...row.querySelectorAll('.bl-message, .bl-cols, .bl-fields-json')]
    .map((part) => part.getBoundingClientRect().bottom);
  const box = row.getBoundingClientRect();
  return {top: box.top, bottom: box.bottom, parts: Math.max(...bottoms),
          next: next && next.getBoundingClientRect().top};
}"""


@pytest.mark.parametrize(("width", "height", "columns"), [(1400, 900, 5), (800, 900, 1), (360, 740, 2)])
async def test_a_row_opened_with_columns_below_its_message_holds_all_of_it(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int, columns: int) -> None:
    """Where the columns take a line below the message, an opened row kept a collapsed row's height: a
    traceback ran over its own fields and the rows below."""
    await page.set_viewport_size({"width": width, "height": height})
    stream = new_stream()
    traceback = "Traceback (most recent call last):\n" + "\n".join(f'  File "app.py", line {n}' for n in range(30))
    await post(http, app_server, stream, {"message": traceback, "fields": EIGHT_FIELDS},
               *[{"message": f"after {n}", "fields": EIGHT_FIELDS} for n in range(3)])
    query = "&".join(f"col=field{n}" for n in range(columns))
    await open_stream(page, app_server.url, f"{stream}?{query}")
    await expect(page.locator(".bl-row").last.locator(".bl-col")).to_have_count(columns)
    await pause(page)
    await page.locator(".bl-message").first.click()
    await expect(page.locator(".bl-open .bl-fields-json")).to_be_visible()
    await page.wait_for_timeout(300)  # the list measures the opened row over a frame or two
    opened = await page.evaluate(_OPENED_ROW)
    assert opened["parts"] <= opened["bottom"] + 1, opened
    assert opened["next"] is None or opened["next"] >= opened["bottom"] - 1, opened


@pytest.mark.parametrize("columns", [2, 3])
async def test_on_a_merged_view_few_columns_also_leave_the_message_forty_characters(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, columns: int) -> None:
    # A merged view's rows also carry their stream's mark, and rows with fields a badge: the room the
    # columns leave is measured with both.
    await page.set_viewport_size({"width": 1024, "height": 768})
    a, b = new_stream(), new_stream()
    for stream in (a, b):
        await post(http, app_server, stream, {"message": "the message that must stay readable " * 3,
                                              "fields": EIGHT_FIELDS})
    query = "&".join(f"col=field{n}" for n in range(columns))
    await open_stream(page, app_server.url, f"{a}+{b}?{query}")
    newest = page.locator(".bl-row").last
    await expect(newest.locator(".bl-col")).to_have_count(columns)
    layout = await page.evaluate(_EIGHT_COLUMNS_LAYOUT)
    char_width = await newest.locator(".bl-message").evaluate(
        "(cell) => { const probe = document.createElement('span'); probe.textContent = 'x'.repeat(100);"
        " cell.append(probe); const width = probe.getBoundingClientRect().width / 100; probe.remove();"
        " return width; }")
    assert layout["message"]["width"] >= 40 * char_width - 0.5, (layout["message"], char_width)
