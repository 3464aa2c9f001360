"""A page whose stream the memory bus drops to stay within its budget says so, and keeps following."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Page, expect

from harness.servers import running_app

from .conftest import open_stream


async def test_a_dropped_stream_is_announced_on_its_page_and_new_lines_still_arrive(page: Page) -> None:
    with running_app("--memory-budget-mb", "16") as app:
        watched = str(uuid.uuid4())
        await open_stream(page, app.url, watched)
        async with httpx.AsyncClient(timeout=30) as http:
            await http.post(f"{app.url}/live/{watched}", data={"message": "before the flood"})
            await expect(page.locator(".bl-row", has_text="before the flood")).to_have_count(1)
            flood = str(uuid.uuid4())
            batch = [{"message": "f" * 60_000} for _ in range(15)]  # ~0.9 MB a request
            for _ in range(25):  # ~25 MB into another stream: past the 16 MiB budget
                assert (await http.post(f"{app.url}/live/{flood}", json=batch)).status_code == 204
            health = (await http.get(f"{app.url}/healthz")).json()
            assert health["streams_evicted"] >= 1 and health["stream_bytes"] <= 16 * 1024 * 1024
            await expect(page.get_by_text("The server dropped this stream's earlier lines")).to_be_visible()
            await http.post(f"{app.url}/live/{watched}", data={"message": "after the flood"})
            await expect(page.locator(".bl-row", has_text="after the flood")).to_have_count(1)
