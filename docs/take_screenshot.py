"""Make the README's screenshots: a real server, real entries, real Chromium.

docs/screenshot.png is the light view; docs/viewer-dark.png the dark one with the traceback
expanded; docs/viewer-filtered.png a view filtered by text, level and program (as its URL says);
docs/viewer-highlights.png highlight rules and filter marks; docs/viewer-older.png a page that
holds the newest part of a long stream and has searched all of it; docs/viewer-line-link.png a
page opened at a line's link; docs/viewer-strip-columns.png the volume strip over a stream whose
lines came over 20 s, with two fields as columns; docs/viewer-merged.png three streams in one view,
named in this browser.

Run from the repository root: .venv/bin/python -m docs.take_screenshot
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
from playwright.async_api import Page

from dashboard.protocol import view_key
from harness.servers import chromium, running_app

DOCS = Path(__file__).parent
OUTPUT = DOCS / "screenshot.png"
SAMPLE = [
    ("INFO", "web", "GET /orders 200 in 12 ms", None),
    ("INFO", "web", "GET /orders/42 200 in 8 ms", None),
    ("DEBUG", "worker", "picked job 9f1c from queue 'emails'", {"attempt": 1}),
    ("WARNING", "worker", "SMTP slow to answer (2.4 s); retrying", {"host": "mail.internal"}),
    ("INFO", "billing", "invoice 2026-1142 paid", {"amount": 129.0, "currency": "EUR"}),
    ("ERROR", "web", "POST /checkout 500\nTraceback (most recent call last):\n  File \"app.py\", line 88, in checkout\n"
                     "    total = cart.total()\nZeroDivisionError: division by zero", None),
    ("INFO", "cron", "nightly backup finished: 3.2 GB in 41 s", None),
    ("CRITICAL", "db", "replica lag above 30 s", {"replica": "db-2"}),
    ("INFO", "web", "GET /health 200 in 1 ms", None),
]


async def main() -> None:
    with running_app() as app:
        stream = str(uuid.uuid4())
        async with httpx.AsyncClient() as http, chromium() as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 720}, color_scheme="light")
            await page.goto(f"{app.url}/{stream}")
            await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
            for level, program, message, fields in SAMPLE:
                entry = {"message": message, "level": level, "program": program, "timestamp": time.time()}
                await http.post(f"{app.url}/live/{stream}", json={**entry, **({"fields": fields} if fields else {})})
                await asyncio.sleep(0.05)
            await page.locator(".bl-row").nth(len(SAMPLE) - 1).wait_for()
            await page.screenshot(path=str(OUTPUT))

            await page.locator(".bl-theme").click()  # auto → dark
            await page.locator(".bl-row", has_text="POST /checkout").locator(".bl-line").click()
            await page.wait_for_timeout(300)
            await page.screenshot(path=str(DOCS / "viewer-dark.png"))

            await page.goto(f"{app.url}/{stream}?q=GET&hide=DEBUG&program=web")
            await page.locator(".bl-row").first.wait_for()
            await page.wait_for_timeout(300)
            await page.screenshot(path=str(DOCS / "viewer-filtered.png"))
            await page.locator(".bl-theme").click()  # dark → light again
            await page.locator(".bl-theme").click()

            await _highlights(page, app.url, stream)
            await _older_lines_and_line_link(page, app.url, http)
            await _strip_and_columns(page, app.url, http)
            await _merged_view(page, app.url, http)
    print(f"wrote {OUTPUT}, viewer-dark.png, viewer-filtered.png and the feature screenshots in {DOCS}")


async def _highlights(page: Page, base_url: str, stream: str) -> None:
    await page.goto(f"{base_url}/{stream}?hl=red:re:5%5Cd%5Cd&hl=blue:replica&hl=green:paid&hl=orange:slow")
    await page.locator("mark").first.wait_for()
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(DOCS / "viewer-highlights.png"))


async def _older_lines_and_line_link(page: Page, base_url: str, http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    lines = [{"message": f"GET /orders/{n} 200 in {n % 40} ms", "level": "INFO", "program": "web"} for n in range(2400)]
    lines[300] = {"message": "payment provider timed out after 30 s", "level": "ERROR", "program": "billing"}
    for start in range(0, len(lines), 500):
        await http.post(f"{base_url}/live/{stream}", content=json.dumps(lines[start:start + 500]),
                        headers={"Content-Type": "application/json"})
    await page.goto(f"{base_url}/{stream}?q=timed+out")
    await page.locator(".bl-search-all").click()
    await page.locator(".bl-row", has_text="payment provider").wait_for()
    await page.wait_for_timeout(3600)  # the notice over the first row fades
    await page.screenshot(path=str(DOCS / "viewer-older.png"))

    entries = (await http.get(f"{base_url}/live/{stream}/entries", params={"q": "timed out"})).json()["entries"]
    await page.goto(f"{base_url}/{stream}?at={entries[0]['id']}")
    await page.locator(".bl-linked").wait_for()
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(DOCS / "viewer-line-link.png"))


async def _strip_and_columns(page: Page, base_url: str, http: httpx.AsyncClient) -> None:
    stream = str(uuid.uuid4())
    await page.goto(f"{base_url}/{stream}?col=status&col=user.id")
    await page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
    for tick in range(80):  # 20 s of traffic, with a burst of errors in the middle
        failing = 40 <= tick < 46
        batch = [{"message": f"{'POST' if n % 3 else 'GET'} /api/orders/{tick * 40 + n}",
                  "level": "ERROR" if failing and n % 2 else ("WARNING" if n == 7 else "INFO"), "program": "web",
                  "fields": {"status": 503 if failing and n % 2 else 200, "user": {"id": 1000 + (tick * 7 + n) % 90},
                             "duration_ms": 12 + (n * 37) % 400}}
                 for n in range(8 + (tick * 13) % 25)]
        await http.post(f"{base_url}/live/{stream}", content=json.dumps(batch),
                        headers={"Content-Type": "application/json"})
        await asyncio.sleep(0.25)
    await page.wait_for_timeout(600)
    await page.screenshot(path=str(DOCS / "viewer-strip-columns.png"))


MERGED_SAMPLE = [
    (0, "INFO", "GET /orders 200 in 12 ms"), (1, "INFO", "picked job 9f1c from queue 'emails'"),
    (0, "INFO", "POST /checkout 201 in 48 ms"), (2, "INFO", "invoice 2026-1142 paid"),
    (1, "WARNING", "SMTP slow to answer (2.4 s); retrying"), (0, "DEBUG", "cache miss for /orders/42"),
    (2, "ERROR", "card declined for invoice 2026-1143"), (1, "INFO", "sent 'order confirmed' to 3 addresses"),
    (0, "INFO", "GET /health 200 in 1 ms"), (2, "INFO", "refund 2026-0981 queued"),
    (1, "ERROR", "job 9f20 failed: mailbox full"), (0, "WARNING", "GET /search 200 in 1,204 ms (slow)"),
]


async def _merged_view(page: Page, base_url: str, http: httpx.AsyncClient) -> None:
    streams = [str(uuid.uuid4()) for _ in range(3)]
    names = {view_key(stream): name for stream, name in zip(streams, ["web", "mailer", "billing"], strict=True)}
    await page.evaluate("names => localStorage.setItem('bunnylogs-labels', JSON.stringify(names))", names)
    programs = ["gunicorn", "celery", "payments"]
    for index, level, message in MERGED_SAMPLE:
        entry = {"message": message, "level": level, "program": programs[index]}
        await http.post(f"{base_url}/live/{streams[index]}", json=entry)
        await asyncio.sleep(0.02)
    await page.goto(f"{base_url}/{'+'.join(view_key(stream) for stream in streams)}")
    await page.locator(".bl-row").nth(len(MERGED_SAMPLE) - 1).wait_for()
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(DOCS / "viewer-merged.png"))


if __name__ == "__main__":
    asyncio.run(main())
