"""Security headers on every kind of answer, and a stream page that works under its strict policy."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Browser, expect

from dashboard.security_headers import PAGE_POLICY
from harness.servers import AppProcess

from .conftest import open_stream

COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""


def assert_headers(response: httpx.Response, *, policy_start: str, indexed: bool = False) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.url, name)
    assert response.headers["content-security-policy"].startswith(policy_start), response.url
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert ("x-robots-tag" not in response.headers) if indexed else \
        response.headers["x-robots-tag"] == "noindex, nofollow"


async def test_every_kind_of_answer_carries_the_headers(app_server: AppProcess, http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    base = app_server.url
    assert (await http.post(f"{base}/live/{stream}", data={"message": "x"})).status_code == 204
    assert_headers(await http.get(f"{base}/{stream}"), policy_start="default-src 'self'; script-src")
    assert_headers(await http.get(f"{base}/"), policy_start="default-src 'self'; script-src", indexed=True)
    assert_headers(await http.get(f"{base}/live/{stream}/entries"), policy_start="default-src 'none'")
    assert_headers(await http.get(f"{base}/live/nope"), policy_start="default-src 'none'")
    assert_headers(await http.get(f"{base}/healthz"), policy_start="default-src 'none'")
    async with http.stream("GET", f"{base}/live/{stream}") as events:
        assert_headers(events, policy_start="default-src 'none'")
    # The ingest fast lane answers outside the middleware: its 204 and its JSON errors (which quote
    # the request) carry the headers themselves, once each.
    accepted = await http.post(f"{base}/live/{stream}", data={"message": "y"})
    assert accepted.status_code == 204
    assert_headers(accepted, policy_start="default-src 'none'")
    refused = await http.post(f"{base}/live/{stream}", content=b"<b>x</b>", headers={"content-type": "text/html"})
    assert refused.status_code == 415
    assert_headers(refused, policy_start="default-src 'none'")
    assert refused.headers.get_list("x-content-type-options") == ["nosniff"]
    not_here = await http.get(f"{base}/live/{stream}/nope")
    assert not_here.headers.get_list("content-security-policy") == ["default-src 'none'; frame-ancestors 'none'"]


async def test_robots_txt_keeps_everything_but_the_landing_page_out(app_server: AppProcess,
                                                                    http: httpx.AsyncClient) -> None:
    response = await http.get(f"{app_server.url}/robots.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "User-agent: *" in lines and "Disallow: /" in lines and "Allow: /$" in lines


async def test_the_stream_page_works_under_its_policy_with_no_violation(browser: Browser, app_server: AppProcess,
                                                                       http: httpx.AsyncClient) -> None:
    context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    await context.add_init_script(RECORD_VIOLATIONS)
    page = await context.new_page()
    stream = str(uuid.uuid4())
    response = await page.goto(f"{app_server.url}/{stream}")
    assert response is not None and await response.header_value("content-security-policy") == PAGE_POLICY
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    await http.post(f"{app_server.url}/live/{stream}", data={"message": "under the policy \x1b[31mred\x1b[0m"})
    row = page.locator(".bl-row", has_text="under the policy")
    await expect(row).to_have_count(1)
    await row.hover()
    await row.locator(".bl-copy").click()
    await page.get_by_role("tab", name="Python").click()
    await page.locator(".bl-download").click()
    async with page.expect_download():
        await page.locator(".bl-download-ndjson").click()
    await page.goto(app_server.url)
    await expect(page.get_by_role("button", name="New stream")).to_be_visible()
    assert await page.evaluate("window.__violations") == []
    await context.close()


async def test_a_policy_violation_would_be_seen(browser: Browser, app_server: AppProcess) -> None:
    """The check above can fail: a script from another origin is blocked and recorded."""
    context = await browser.new_context()
    await context.add_init_script(RECORD_VIOLATIONS)
    page = await context.new_page()
    await open_stream(page, app_server.url, str(uuid.uuid4()))
    await page.evaluate("""() => { const s = document.createElement("script");
                                   s.src = "http://127.0.0.1:9/x.js"; document.head.append(s); }""")
    await page.wait_for_function("window.__violations.length > 0")
    assert (await page.evaluate("window.__violations"))[0].startswith("script-src")
    await context.close()
