"""Stream addresses as users type and paste them, and the send panel's snippets and copy buttons."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Browser, Page, expect

from harness.servers import AppProcess

from .conftest import open_stream


def new_stream() -> str:
    return str(uuid.uuid4())


async def test_an_upper_case_address_opens_the_stream_at_its_lower_case_address(
        page: Page, app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    upper = stream.upper()  # as macOS uuidgen prints it
    sent = await http.post(f"{app_server.url}/live/{upper}", data={"message": "sent in upper case"})
    assert sent.status_code == 204
    response = await page.goto(f"{app_server.url}/{upper}?q=upper")
    assert response is not None and response.status == 200
    assert page.url == f"{app_server.url}/{stream}?q=upper"
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await expect(page.locator(".bl-row", has_text="sent in upper case")).to_have_count(1)
    await http.post(f"{app_server.url}/live/{upper}", data={"message": "live, upper case too"})
    await expect(page.locator(".bl-row", has_text="live, upper case too")).to_have_count(1)


async def test_opening_the_stream_url_in_a_browser_shows_the_page(page: Page, app_server: AppProcess) -> None:
    stream = new_stream()
    response = await page.goto(f"{app_server.url}/live/{stream}")
    assert response is not None and response.status == 200
    assert page.url == f"{app_server.url}/{stream}"
    await expect(page.locator(".ingest-url")).to_have_text(f"POST to {app_server.url}/live/{stream}")


async def test_a_post_to_the_page_address_says_where_to_post(app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = new_stream()
    response = await http.post(f"{app_server.url}/{stream}", data={"message": "to the page"})
    assert response.status_code == 405
    assert response.json() == {"detail": f"this is the stream's page; send log entries with POST to /live/{stream}"}
    page_itself = await http.get(f"{app_server.url}/{stream}")
    assert page_itself.status_code == 200 and "text/html" in page_itself.headers["content-type"]
    merged = f"{stream}+{new_stream().upper()}"
    response = await http.post(f"{app_server.url}/{merged}", data={"message": "to a merged page"})
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")
    assert response.json() == {"detail": "this is a page of several streams; it takes no log entries (send each "
                                         "stream's with POST to /live/<its write key>)"}
    merged_page = await http.get(f"{app_server.url}/{merged.lower()}")
    assert merged_page.status_code == 200 and "text/html" in merged_page.headers["content-type"]


async def test_copy_buttons_are_labelled_visible_and_copy_the_url_and_each_snippet(
        browser: Browser, app_server: AppProcess) -> None:
    context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    viewer = await context.new_page()
    stream = new_stream()
    url = f"{app_server.url}/live/{stream}"
    await open_stream(viewer, app_server.url, stream)
    panel = viewer.locator(".send-panel")

    copy_url = panel.get_by_role("button", name="Copy the URL to POST log entries to")
    await expect(copy_url).to_be_visible()
    await expect(copy_url).to_have_text("content_copyCopy URL")  # the icon's ligature, then the label
    await copy_url.click()
    assert await viewer.evaluate("navigator.clipboard.readText()") == url
    await expect(copy_url).to_contain_text("Copied")

    await panel.get_by_role("tab", name="pipe & tail").click()
    shell = panel.locator(".snippet", has_text="bunnylogs tail")
    copy_shell = shell.get_by_role("button", name="Copy to the clipboard")
    await expect(copy_shell).to_be_visible()
    # Clearly visible without hovering: fully opaque, and it shows its label.
    assert await copy_shell.evaluate("b => Number(getComputedStyle(b).opacity)") == 1
    await expect(copy_shell).to_contain_text("Copy")
    await copy_shell.click()
    copied = await viewer.evaluate("navigator.clipboard.readText()")
    assert f"bunnylogs pipe {url}" in copied and f"bunnylogs tail {url}" in copied

    await panel.get_by_role("tab", name="Python").click()
    await expect(panel.locator(".snippet", has_text="pip install --no-deps").first).to_be_visible()
    python = panel.locator(".snippet", has_text="BunnyLogsHandler")
    await python.get_by_role("button", name="Copy to the clipboard").click()
    copied = await viewer.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("import logging\nfrom dashboard.client import BunnyLogsHandler") and url in copied
    await context.close()
