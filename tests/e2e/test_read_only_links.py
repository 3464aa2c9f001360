"""Read-only links in a real browser: the view key's page shows the stream and nothing that sends to it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from dashboard.protocol import view_key
from harness.servers import AppProcess

from .conftest import open_stream, pause


async def post(http: httpx.AsyncClient, app: AppProcess, key: str, *messages: str) -> httpx.Response:
    return await http.post(f"{app.url}/live/{key}", json=[{"message": message} for message in messages])


@pytest.mark.parametrize(("width", "height"), [(360, 740), (420, 900), (1280, 700)])
async def test_the_read_only_note_is_read_as_lines_not_as_a_column_of_words(
        page: Page, app_server: AppProcess, width: int, height: int) -> None:
    """On a phone the note beside the badge and buttons was a column one word wide, 180 px high."""
    await page.set_viewport_size({"width": width, "height": height})
    await open_stream(page, app_server.url, view_key(str(uuid.uuid4())))
    note = await page.locator(".read-only-note").evaluate("(note) => note.getBoundingClientRect().toJSON()")
    row = await page.locator(".access-row").evaluate("(row) => row.getBoundingClientRect().toJSON()")
    assert note["height"] <= 45, note  # two lines of it at most
    assert row["height"] <= 90 and row["right"] <= width, row
    for button in (".access-row .bl-copy-button", ".bl-add-stream"):
        box = await page.locator(button).evaluate("(button) => button.getBoundingClientRect().toJSON()")
        assert box["right"] <= width, (button, box)


async def test_the_read_only_page_follows_the_stream_and_holds_nothing_that_sends(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    write = str(uuid.uuid4())
    view = view_key(write)
    assert (await post(http, app_server, write, "before the page opened")).status_code == 204
    await open_stream(page, app_server.url, view)
    await expect(page.locator(".bl-row", has_text="before the page opened")).to_have_count(1)
    assert (await post(http, app_server, write, "live alpha", "live beta")).status_code == 204
    await expect(page.locator(".bl-message")).to_have_text(["before the page opened", "live alpha", "live beta"])

    await expect(page.locator(".read-only-badge")).to_have_text("read-only")
    assert (await page.title()).endswith("read-only")
    for sender in (".send-panel", ".snippet", ".ingest-url", ".read-only-url"):
        await expect(page.locator(sender)).to_have_count(0)
    html = await page.content()
    assert write not in html.lower() and write.replace("-", "") not in html.lower()
    assert f"/live/{view}" not in html and "POST to" not in html and "BunnyLogsHandler" not in html

    refused = await post(http, app_server, view, "through the read-only link")
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]

    # The viewer's own tools work as on any page: filter, pause, download.
    await page.locator(".bl-filter-input input").fill("beta")
    await expect(page.locator(".bl-message")).to_have_text(["live beta"])
    await pause(page)
    await expect(page.locator(".bl-paused")).to_have_text("paused · 0 new")
    assert (await post(http, app_server, write, "beta while paused")).status_code == 204
    await expect(page.locator(".bl-paused")).to_have_text("paused · 1 new")
    await page.locator(".bl-pause").click()
    await expect(page.locator(".bl-message")).to_have_text(["live beta", "beta while paused"])
    await page.locator(".bl-download").click()
    async with page.expect_download() as download_info:
        await page.locator(".bl-download-ndjson").click()
    lines = Path(await (await download_info.value).path()).read_text().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["live beta", "beta while paused"]


async def test_the_write_page_copies_its_read_only_link_which_opens_the_same_stream(
        browser: Browser, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    writer_page = await context.new_page()
    write = str(uuid.uuid4())
    view_url = f"{app_server.url}/{view_key(write)}"
    await open_stream(writer_page, app_server.url, write)
    await expect(writer_page.locator(".read-only-url")).to_have_text(f"Read-only link: {view_url}")
    await expect(writer_page.locator(".send-panel")).to_have_count(1)
    await expect(writer_page.locator(".read-only-badge")).to_have_count(0)

    copy = writer_page.get_by_role("button", name="Copy a link that shows this stream but cannot send logs to it")
    await expect(copy).to_contain_text("Copy read-only link")
    await copy.click()
    assert await writer_page.evaluate("navigator.clipboard.readText()") == view_url

    reader_page = await context.new_page()
    await reader_page.goto(view_url)
    await reader_page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    copy_link = reader_page.get_by_role("button", name="Copy this read-only link")
    await copy_link.click()
    assert await reader_page.evaluate("navigator.clipboard.readText()") == view_url
    assert (await post(http, app_server, write, "seen by both")).status_code == 204
    for viewer in (writer_page, reader_page):
        await expect(viewer.locator(".bl-row", has_text="seen by both")).to_have_count(1)
    await context.close()
