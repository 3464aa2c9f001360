"""Two processes on one Redis: a POST to the ingest process shows up in a browser on the UI process."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Page, expect

from harness.servers import AppProcess, running_app

from .conftest import open_stream


@pytest.fixture(scope="module")
def ingest_process(redis_url: str) -> Iterator[AppProcess]:
    with running_app("--role", "ingest", "--redis-url", redis_url) as app:
        yield app


@pytest.fixture(scope="module")
def ui_process(redis_url: str, ingest_process: AppProcess) -> Iterator[AppProcess]:
    with running_app("--role", "ui", "--redis-url", redis_url, "--public-url", ingest_process.url) as app:
        yield app


async def test_post_to_ingest_process_appears_on_ui_process(page: Page, second_page: Page,
                                                            ingest_process: AppProcess, ui_process: AppProcess,
                                                            http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    url = f"{ingest_process.url}/live/{stream}"
    assert (await http.post(url, data={"message": "before anyone looked"})).status_code == 204
    await open_stream(page, ui_process.url, stream)
    await expect(page.locator(".bl-message")).to_have_text(["before anyone looked"])

    await open_stream(second_page, ui_process.url, stream)
    assert (await http.post(url, json=[{"message": "across processes", "level": "error"}])).status_code == 204
    for viewer in (page, second_page):
        await expect(viewer.locator(".bl-message")).to_have_text(["before anyone looked", "across processes"])
    await expect(page.locator(".ingest-url")).to_have_text(f"POST to {url}")


async def test_each_process_serves_only_its_role(ingest_process: AppProcess, ui_process: AppProcess,
                                                 http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    refused = await http.post(f"{ui_process.url}/live/{stream}", data={"message": "x"})
    assert refused.status_code == 404 and "serves only pages" in refused.json()["detail"]
    preflight = await http.options(f"{ui_process.url}/live/{stream}")
    assert preflight.status_code == 404 and "serves only pages" in preflight.json()["detail"]
    assert (await http.get(f"{ingest_process.url}/{stream}")).status_code == 404
    assert (await http.get(f"{ui_process.url}/{stream}")).status_code == 200


@pytest.fixture(scope="module")
def other_web_app() -> Iterator[str]:
    """A page of some other web app on this machine: an origin of its own, served over real HTTP."""

    class OnePage(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>some app</title>"
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OnePage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


async def test_a_page_on_another_origin_can_post_json(page: Page, ingest_process: AppProcess,
                                                       ui_process: AppProcess, other_web_app: str) -> None:
    """A browser app on any origin may send logs with fetch(): /live answers its CORS preflight."""
    stream = str(uuid.uuid4())
    await open_stream(page, ui_process.url, stream)
    assert page.context.browser is not None
    context = await page.context.browser.new_context()
    app_page = await context.new_page()
    await app_page.goto(other_web_app)
    status = await app_page.evaluate("""async (url) => {
        const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                           body: JSON.stringify({message: "sent by fetch()", level: "warn"})});
        return response.status;
    }""", f"{ingest_process.url}/live/{stream}")
    await context.close()
    assert status == 204
    await expect(page.locator(".bl-message")).to_have_text(["sent by fetch()"])


async def test_a_pages_only_process_without_a_public_url_says_its_url_takes_no_logs(page: Page,
                                                                                  redis_url: str) -> None:
    with running_app("--role", "ui", "--redis-url", redis_url) as alone:
        await open_stream(page, alone.url, str(uuid.uuid4()))
        await page.get_by_text("Send logs to this stream").click()
        await expect(page.locator(".send-warning")).to_contain_text("serves pages only (--role ui)")
        await expect(page.locator(".send-warning")).to_contain_text("--public-url")


async def test_behind_a_proxy_or_with_a_public_url_no_warning(page: Page, ui_process: AppProcess) -> None:
    await open_stream(page, ui_process.url, str(uuid.uuid4()))
    await expect(page.locator(".ingest-url")).to_be_attached()
    await expect(page.locator(".send-warning")).to_have_count(0)
