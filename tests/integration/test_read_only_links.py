"""Read-only links against real servers on both buses: send with the write key, read with the view key.

With Redis the view key is also read on another process than the one that took the entries: the key
is derived, not stored, so every process agrees on it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import NamedTuple

import httpx
import pytest

from dashboard.protocol import view_key
from harness.servers import running_app, viewers_fed, wait_for_viewers

from .test_follow_server import EventReader
from .test_pipe_and_tail import BUNNYLOGS, post, start_tail, stop


class Servers(NamedTuple):
    """Where entries are sent (with the write key) and where they are read (with the view key)."""

    send_to: str
    read_from: str


@pytest.fixture(scope="module", params=["memory bus", "redis bus", "redis, ingest and ui processes"])
def servers(request: pytest.FixtureRequest) -> Iterator[Servers]:
    if request.param == "memory bus":
        with running_app() as app:
            yield Servers(app.url, app.url)
        return
    redis = ("--redis-url", request.getfixturevalue("redis_url"))
    if request.param == "redis bus":
        with running_app(*redis) as app:
            yield Servers(app.url, app.url)
        return
    with running_app("--role", "ingest", *redis) as ingest, running_app("--role", "ui", *redis) as ui:
        yield Servers(ingest.url, ui.url)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def messages(entries: list[dict]) -> list[str]:
    return [entry["message"] for entry in entries]


async def test_entries_and_events_of_the_view_key_are_what_the_write_key_sent(
        servers: Servers, http: httpx.AsyncClient) -> None:
    write = str(uuid.uuid4())
    view = view_key(write)
    post(servers.send_to, write, {"message": "first"}, {"message": "second"})
    by_view = (await http.get(f"{servers.read_from}/live/{view}/entries")).json()
    assert messages(by_view["entries"]) == ["first", "second"]
    assert (await http.get(f"{servers.read_from}/live/{write}/entries")).json() == by_view

    async with http.stream("GET", f"{servers.read_from}/live/{view}",
                           headers={"accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        reader = EventReader(response)
        history = await reader.events(2)
        assert [data for _, data in history] == by_view["entries"]
        post(servers.send_to, write, {"message": "live"})
        event_id, data = await reader.next_event()
        assert (data["message"], event_id) == ("live", data["id"])


def test_tail_follows_a_read_only_link(servers: Servers) -> None:
    write = str(uuid.uuid4())
    post(servers.send_to, write, {"message": "history"})
    followers = viewers_fed(servers.read_from)
    process, output = start_tail(f"{servers.read_from}/{view_key(write)}", "-n", "5", "--json")
    try:
        assert json.loads(output.take(1)[0])["message"] == "history"
        asyncio.run(wait_for_viewers(servers.read_from, lambda count: count > followers, timeout_s=10))
        post(servers.send_to, write, {"message": "live", "level": "warning"})
        line = json.loads(output.take(1)[0])
        assert (line["message"], line["level"]) == ("live", "WARNING")
    finally:
        errors = stop(process)
    assert "following" in errors and "Traceback" not in errors


async def test_a_view_key_cannot_send_and_pipe_says_why_before_sending(
        servers: Servers, http: httpx.AsyncClient) -> None:
    write = str(uuid.uuid4())
    view = view_key(write)
    refused = await http.post(f"{servers.send_to}/live/{view}", data={"message": "through the read-only link"})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("this is a read-only key")
    result = await asyncio.to_thread(subprocess.run, [*BUNNYLOGS, "pipe", f"{servers.send_to}/{view}"],
                                     input=b"a line\n", capture_output=True, timeout=30)
    assert result.returncode == 2
    assert b"is a read-only link" in result.stderr and b"Traceback" not in result.stderr
    assert (await http.get(f"{servers.read_from}/live/{view}/entries")).json()["entries"] == []


async def test_the_view_key_pages_back_and_filters_as_the_write_key_does(
        servers: Servers, http: httpx.AsyncClient) -> None:
    write = str(uuid.uuid4())
    view = view_key(write)
    post(servers.send_to, write, *[{"message": f"m{i}", "level": "error" if i % 3 else "info"} for i in range(30)])
    queries = [{"limit": "5"}, {"level": "error", "q": "M2", "limit": "3"}, {"q": "^m1[0-9]$", "re": "1"},
               {"since": "1h", "program": "api", "after": "0", "limit": "4"}]
    for query in queries:
        by_view = (await http.get(f"{servers.read_from}/live/{view}/entries", params=query)).json()
        assert (await http.get(f"{servers.read_from}/live/{write}/entries", params=query)).json() == by_view
        if by_view["next_before"]:
            older = {**query, "before": by_view["next_before"]}
            older.pop("after", None)
            assert (await http.get(f"{servers.read_from}/live/{view}/entries", params=older)).json() == \
                (await http.get(f"{servers.read_from}/live/{write}/entries", params=older)).json()
    assert messages(by_view["entries"]) == ["m0", "m1", "m2", "m3"]
    filtered = (await http.get(f"{servers.read_from}/live/{view}/entries", params=queries[1])).json()
    assert messages(filtered["entries"]) == ["m26", "m28", "m29"] and filtered["kept"] == 30
    refused = await http.post(f"{servers.send_to}/live/{view}?level=error&q=x&before=1-0", data={"message": "no"})
    assert refused.status_code == 403, "no query parameter lets a view key write"
