"""Past the memory bus's budget, the page of a stream that lost its oldest lines says so and keeps following,
and a small stream beside the flood keeps all of its lines."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Page, expect

from harness.servers import running_app

from .conftest import open_stream


async def test_a_trimmed_stream_is_announced_on_its_page_and_a_small_one_beside_it_keeps_its_lines(
        page: Page) -> None:
    with running_app("--memory-budget-mb", "16") as app:
        small, watched = str(uuid.uuid4()), str(uuid.uuid4())
        await open_stream(page, app.url, watched)
        async with httpx.AsyncClient(timeout=30) as http:
            await http.post(f"{app.url}/live/{small}", data={"message": "a small stream's line"})
            await http.post(f"{app.url}/live/{watched}", data={"message": "before the flood"})
            await expect(page.locator(".bl-row", has_text="before the flood")).to_have_count(1)
            batch = [{"message": "f" * 60_000} for _ in range(15)]  # ~0.9 MB a request
            for round_ in range(25):  # ~25 MB over two streams, the watched one among them: past the 16 MiB budget
                for stream in (watched, str(uuid.uuid5(uuid.NAMESPACE_URL, f"flood-{round_ % 2}"))):
                    assert (await http.post(f"{app.url}/live/{stream}", json=batch[:8])).status_code == 204
            health = (await http.get(f"{app.url}/healthz")).json()
            assert health["streams_trimmed"] >= 1 and health["stream_bytes"] <= 16 * 1024 * 1024
            # Said once, however many times the stream was trimmed.
            await expect(page.get_by_text("The server dropped this stream's earlier lines")).to_have_count(1)
            kept = (await http.get(f"{app.url}/live/{small}/entries")).json()["entries"]
            assert [entry["message"] for entry in kept] == ["a small stream's line"]
            await http.post(f"{app.url}/live/{watched}", data={"message": "after the flood"})
            await expect(page.locator(".bl-row", has_text="after the flood")).to_have_count(1)
            await expect(page.get_by_text("The server dropped this stream's earlier lines")).to_have_count(1)
