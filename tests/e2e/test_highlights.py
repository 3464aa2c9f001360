"""Highlights in a real browser: the filter's matches and the viewer's colour rules, marked without
hiding any row, kept in the URL, inert as markup, and unable to freeze the page."""

from __future__ import annotations

import json
import re
import time
import uuid
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from dashboard.protocol import view_key
from harness.servers import AppProcess

from .conftest import download, open_stream, pause

WAIT_MS = 20_000  # generous: other test runs share this machine's two cores


def new_stream() -> str:
    return str(uuid.uuid4())


async def post(http: httpx.AsyncClient, app: AppProcess, stream: str, *messages: str) -> None:
    response = await http.post(f"{app.url}/live/{stream}", json=[{"message": message} for message in messages])
    assert response.status_code == 204, response.text


def with_rules(stream: str, *rules: str) -> str:
    return f"{stream}?" + "&".join(f"hl={quote(rule, safe='')}" for rule in rules)


async def hl_params(page: Page) -> list[str]:
    return parse_qs(urlsplit(page.url).query).get("hl", [])


REQUESTS = ("GET /a 503 timeout", "GET /b 200 ok", "GET /c 504 upstream")


# --- the filter's matches ---------------------------------------------------------------------------

async def test_the_filter_marks_its_matches_and_only_them(page: Page, app_server: AppProcess,
                                                          http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, "alpha one", "beta two", "Alpha three alpha")
    await expect(page.locator(".bl-shown")).to_have_text("3 shown", timeout=WAIT_MS)
    await expect(page.locator(".bl-hl")).to_have_count(0)
    await page.locator(".bl-filter-input input").fill("ALPHA")
    await expect(page.locator(".bl-message")).to_have_text(["alpha one", "Alpha three alpha"])
    await expect(page.locator(".bl-hl-match")).to_have_text(["alpha", "Alpha", "alpha"], timeout=WAIT_MS)
    await page.locator(".bl-regex").click()
    await page.locator(".bl-filter-input input").fill(r"t\w+e")
    await expect(page.locator(".bl-hl-match")).to_have_text(["three"], timeout=WAIT_MS)
    await page.locator(".bl-invert").click()  # the rows that do not match: nothing to mark
    await expect(page.locator(".bl-message")).to_have_text(["alpha one", "beta two"])
    await expect(page.locator(".bl-hl")).to_have_count(0)


async def test_marks_lie_over_ansi_colours_and_escaped_characters(page: Page, app_server: AppProcess,
                                                                  http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, f"{stream}?q=red+plain")
    await post(http, app_server, stream, "\x1b[31mred\x1b[0m plain \x1b[1;32mgreen\x1b[0m", "bell\x07ring")
    message = page.locator(".bl-message").first
    await expect(message).to_have_text("red plain green", timeout=WAIT_MS)
    await expect(message.locator(".bl-hl-match")).to_have_text(["red", " plain"], timeout=WAIT_MS)
    await expect(message.locator(".bl-fg-1 > mark.bl-hl-match")).to_have_text("red")  # the colour stays
    await expect(message.locator(".bl-fg-2")).to_have_text("green")
    await page.locator(".bl-filter-input input").fill("l\x07r")  # the escaped character is marked with its neighbours
    await expect(page.locator(".bl-message")).to_have_text(["bell\\x07ring"])
    await expect(page.locator(".bl-hl-match")).to_have_text(["l", "\\x07", "r"], timeout=WAIT_MS)


# --- highlight rules --------------------------------------------------------------------------------

async def test_two_rules_mark_their_rows_and_words_in_their_colours_and_hide_nothing(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await post(http, app_server, stream, *REQUESTS)
    await open_stream(page, app_server.url, with_rules(stream, "red:timeout", r"blue:re:5\d\d"))
    rows = page.locator(".bl-row")
    await expect(page.locator(".bl-message")).to_have_text(list(REQUESTS), timeout=WAIT_MS)
    await expect(rows.nth(0)).to_have_class(re.compile(r"\bbl-marked-0\b"), timeout=WAIT_MS)  # the first rule's colour
    await expect(rows.nth(1)).not_to_have_class(re.compile(r"bl-marked"))
    await expect(rows.nth(2)).to_have_class(re.compile(r"\bbl-marked-4\b"))
    await expect(page.locator(".bl-hl-0")).to_have_text(["timeout"])
    await expect(page.locator(".bl-hl-4")).to_have_text(["503", "504"])
    await expect(page.locator(".bl-shown")).to_have_text("3 shown")
    chips = page.locator(".bl-hl-chip")
    await expect(chips).to_have_text([re.compile("timeout"), re.compile(r"/5\\d\\d/")])
    assert [await chip.get_attribute("data-colour") for chip in await chips.all()] == ["red", "blue"]
    # New rows are marked as they come, and the text filter's own marks go with them.
    await post(http, app_server, stream, "GET /d 500 timeout")
    await expect(rows.last).to_have_class(re.compile(r"\bbl-marked-0\b"), timeout=WAIT_MS)
    await page.locator(".bl-filter-input input").fill("GET")
    await expect(page.locator(".bl-hl-match")).to_have_count(4, timeout=WAIT_MS)
    await expect(page.locator(".bl-hl-4")).to_have_text(["503", "504", "500"])


async def test_add_with_the_keyboard_recolour_remove_and_reload(page: Page, app_server: AppProcess,
                                                               http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await post(http, app_server, stream, *REQUESTS)
    await open_stream(page, app_server.url, stream)
    await expect(page.locator(".bl-shown")).to_have_text("3 shown", timeout=WAIT_MS)
    await expect(page.locator(".bl-highlights")).to_be_hidden()
    await page.locator(".bl-highlight-button").click()
    field = page.locator(".bl-highlight-text input")
    await expect(field).to_be_focused()
    await page.keyboard.type("upstream")
    await page.keyboard.press("Enter")  # Enter adds
    await expect(page.locator(".bl-hl-chip")).to_have_text([re.compile("upstream")])
    await expect(field).to_have_value("")
    await page.locator(".bl-swatch-green").click()  # a colour chosen for the next rule
    await page.locator(".bl-highlight-regex").click()
    await field.fill("GET /[ab]")
    await page.locator(".bl-highlight-add").click()
    await page.keyboard.press("Escape")  # Escape closes the menu, and leaves the filter alone
    await expect(page.locator(".bl-highlight-menu")).to_be_hidden()
    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("hl") == ["red:upstream",
                                                                                   "green:re:GET /[ab]"])
    await expect(page.locator(".bl-hl-3")).to_have_text(["GET /a", "GET /b"], timeout=WAIT_MS)
    await expect(page.locator(".bl-hl-0")).to_have_text(["upstream"])

    await page.reload()  # the rules live in the URL
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-hl-chip")).to_have_count(2)
    await expect(page.locator(".bl-hl-3")).to_have_text(["GET /a", "GET /b"], timeout=WAIT_MS)

    await page.locator(".bl-hl-chip").first.locator(".q-chip__content").click()  # the next colour
    await expect(page.locator(".bl-hl-1")).to_have_text(["upstream"], timeout=WAIT_MS)
    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("hl", [""])[0] == "orange:upstream")

    await page.locator(".bl-hl-chip").last.locator(".q-chip__icon--remove").click()
    await expect(page.locator(".bl-hl-chip")).to_have_count(1)
    await expect(page.locator(".bl-hl-3")).to_have_count(0, timeout=WAIT_MS)
    await expect(page.locator(".bl-row.bl-marked-3")).to_have_count(0)
    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("hl") == ["orange:upstream"])
    await page.locator(".bl-hl-chip .q-chip__icon--remove").click()
    await expect(page.locator(".bl-hl")).to_have_count(0, timeout=WAIT_MS)
    await expect(page.locator(".bl-highlights")).to_be_hidden()
    await page.wait_for_url(lambda url: "hl=" not in url)


async def test_an_invalid_rule_says_so_and_the_others_and_the_page_go_on(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await post(http, app_server, stream, *REQUESTS)
    await open_stream(page, app_server.url, with_rules(stream, "re:(unclosed", "yellow:ok", "re:(a+)+"))
    error = page.locator(".bl-highlight-error")
    await expect(error).to_contain_text("Highlight rule 1: Invalid regular expression", timeout=WAIT_MS)
    chips = page.locator(".bl-hl-chip")
    await expect(chips.nth(0)).to_have_class(re.compile(r"\bbl-hl-chip-error\b"))
    await expect(chips.nth(1)).not_to_have_class(re.compile(r"bl-hl-chip-error"))
    await expect(chips.nth(2)).to_have_class(re.compile(r"\bbl-hl-chip-error\b"))  # nested repeats are refused too
    await expect(page.locator(".bl-hl-2")).to_have_text(["ok"], timeout=WAIT_MS)
    await expect(page.locator(".bl-shown")).to_have_text("3 shown")
    await page.locator(".bl-filter-input input").fill("504")
    await expect(page.locator(".bl-message")).to_have_text([REQUESTS[2]])
    await chips.nth(0).locator(".q-chip__icon--remove").click()
    await expect(error).to_contain_text("Highlight rule 2: This regular expression repeats a group")
    await chips.nth(1).locator(".q-chip__icon--remove").click()
    await expect(error).to_be_hidden()


# --- markup stays text ------------------------------------------------------------------------------

HOSTILE = ('<img src=x onerror="window.__pwned=1">', '"><script>window.__pwned=2</script>',
           ":class=alert(3)")


async def test_markup_in_rules_and_messages_is_shown_as_text(page: Page, app_server: AppProcess,
                                                            http: httpx.AsyncClient) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    stream = new_stream()
    await post(http, app_server, stream, *[f"before {text} after" for text in HOSTILE])
    await open_stream(page, app_server.url, f"{with_rules(stream, *HOSTILE)}&q=before")
    await expect(page.locator(".bl-hl-chip")).to_have_text([re.compile(re.escape(text)) for text in HOSTILE])
    for colour, text in enumerate(HOSTILE):
        await expect(page.locator(f".bl-hl-{colour}")).to_have_text([text], timeout=WAIT_MS)
    await expect(page.locator(".bl-message")).to_have_text([f"before {text} after" for text in HOSTILE])
    await expect(page.locator(".bl-hl-match")).to_have_text(["before"] * 3)
    assert await page.locator("img").count() == 0
    # (NiceGUI's own page script holds the rules as JSON strings: data, not a script of their own.)
    injected = "[...document.scripts].filter((s) => s.textContent.trim() === 'window.__pwned=2').length"
    assert await page.evaluate(injected) == 0
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator("[onerror]").count() == 0
    assert dialogs == []


# --- a hostile pattern cannot freeze the page -------------------------------------------------------

@pytest.mark.parametrize("pattern", [r"\w*\w*\w*x", "a*a*a*a*b"])
async def test_a_rule_that_backtracks_on_a_long_line_is_turned_off_and_the_page_keeps_answering(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, pattern: str) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, with_rules(stream, f"re:{pattern}", "green:fine"))
    await post(http, app_server, stream, "a" * 65_000, "fine line")
    await expect(page.locator(".bl-shown")).to_have_text("2 shown", timeout=WAIT_MS)
    # The page answers at once while the worker is stuck, and every moment after.
    for _ in range(10):
        started = time.monotonic()
        assert await page.evaluate("new Promise((done) => requestAnimationFrame(() => done(1 + 1)))") == 2
        assert time.monotonic() - started < 2
    await expect(page.locator(".bl-highlight-error")).to_contain_text(
        "Highlight rule 1: This highlight rule took too long", timeout=WAIT_MS)
    await expect(page.locator(".bl-hl-chip").first).to_have_class(re.compile(r"\bbl-hl-chip-error\b"))
    await expect(page.locator(".bl-hl-3")).to_have_text(["fine"], timeout=WAIT_MS)  # the other rule goes on
    await page.locator(".bl-filter-input input").fill("fine")
    await expect(page.locator(".bl-message")).to_have_text(["fine line"])
    await page.locator(".bl-filter-input input").fill("")  # the rule stays off: it is not tried again
    await expect(page.locator(".bl-shown")).to_have_text("2 shown")
    await expect(page.locator(".bl-highlight-error")).to_contain_text("Highlight rule 1: This highlight rule took")


# --- with pause, download, copy and read-only links -------------------------------------------------

async def test_rows_held_while_paused_are_marked_by_the_rules_of_when_they_are_shown(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    await open_stream(page, app_server.url, stream)
    await post(http, app_server, stream, "before")
    await expect(page.locator(".bl-message")).to_have_text(["before"], timeout=WAIT_MS)
    await pause(page)
    await expect(page.locator(".bl-paused")).to_have_text("paused · 0 new")
    await post(http, app_server, stream, *REQUESTS)
    await expect(page.locator(".bl-paused")).to_have_text("paused · 3 new", timeout=WAIT_MS)
    await page.locator(".bl-highlight-button").click()
    await page.locator(".bl-highlight-text input").fill("timeout")
    await page.keyboard.press("Enter")
    await page.keyboard.press("Escape")
    await expect(page.locator(".bl-hl-chip")).to_have_count(1)
    await page.locator(".bl-pause").click()
    await expect(page.locator(".bl-message")).to_have_text(["before", *REQUESTS], timeout=WAIT_MS)
    await expect(page.locator(".bl-hl-0")).to_have_text(["timeout"], timeout=WAIT_MS)


async def test_downloads_and_copies_are_plain_text_whatever_is_highlighted(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    stream = new_stream()
    coloured = "\x1b[31m503\x1b[0m timeout"
    await post(http, app_server, stream, coloured, REQUESTS[1])
    await open_stream(page, app_server.url, f"{with_rules(stream, 'red:timeout', 're:5..')}&q=t")
    await expect(page.locator(".bl-hl-0")).to_have_text(["timeout"], timeout=WAIT_MS)
    lines = (await download(page, "ndjson")).splitlines()
    assert [json.loads(line)["message"] for line in lines] == [coloured, REQUESTS[1]]
    text = await download(page, "log")
    assert "<" not in text and "mark" not in text and coloured in text
    await page.locator(".bl-row").first.hover()
    await page.locator(".bl-copy").first.click()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(f" INFO api {coloured}"), copied
    await context.close()


async def test_rules_work_on_a_read_only_link(page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    write = str(uuid.uuid4())
    await post(http, app_server, write, *REQUESTS)
    await open_stream(page, app_server.url, with_rules(view_key(write), "purple:ok"))
    await expect(page.locator(".read-only-badge")).to_have_text("read-only")
    await expect(page.locator(".bl-hl-5")).to_have_text(["ok"], timeout=WAIT_MS)
    await page.locator(".bl-highlight-button").click()
    await page.locator(".bl-highlight-text input").fill("upstream")
    await page.keyboard.press("Enter")
    await expect(page.locator(".bl-hl-chip")).to_have_count(2)
    await expect(page.locator(".bl-row.bl-marked-0")).to_have_count(1, timeout=WAIT_MS)
    assert await hl_params(page) == ["purple:ok", "red:upstream"]


# --- layout -----------------------------------------------------------------------------------------

LAYOUTS = [(420, 800), (1400, 700)]

_FITS = """() => {
  const chips = [...document.querySelectorAll('.bl-hl-chip')].map((chip) => chip.getBoundingClientRect());
  return {
    pageWidth: document.scrollingElement.scrollWidth, window: innerWidth,
    chipLines: new Set(chips.map((box) => Math.round(box.top))).size,
    chipsInside: chips.every((box) => box.right <= innerWidth),
  };
}"""


@pytest.mark.parametrize(("width", "height"), LAYOUTS, ids=[f"{w}x{h}" for w, h in LAYOUTS])
async def test_many_long_rules_wrap_and_nothing_scrolls_sideways(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient, width: int, height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    stream = new_stream()
    rules = [f"rule{n}-" + "x" * (20 if n % 2 else 190) for n in range(10)]
    await post(http, app_server, stream, *[f"line {rule}" for rule in rules])
    await open_stream(page, app_server.url, with_rules(stream, *rules))
    await expect(page.locator(".bl-hl-chip")).to_have_count(10)
    await expect(page.locator(".bl-row.bl-marked-0")).to_have_count(2, timeout=WAIT_MS)
    fits = await page.evaluate(_FITS)
    assert fits["pageWidth"] <= fits["window"], fits
    assert fits["chipsInside"] and fits["chipLines"] > 1, fits
