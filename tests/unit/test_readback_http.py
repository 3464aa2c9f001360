"""GET /live/<uuid>/entries over ASGI, the SSE request checks, and the event-stream writer itself."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from fastapi import FastAPI
from starlette.datastructures import QueryParams

from dashboard import entry_pages, readback
from dashboard.bus.memory import MemoryBus
from dashboard.entry import LogEntry, StreamEntry
from dashboard.entry_pages import (
    MAX_PAGE_BYTES,
    MAX_SCANNED,
    SCAN_CHUNK,
    SCAN_SECONDS,
    SCAN_SLICE_SECONDS,
    ScanBudget,
    read_page,
)
from dashboard.entry_query import OFF_LOOP_SEARCH_CHARS, EntryQuery, parse_entry_query
from dashboard.ingest import Ingest
from dashboard.live_routes import build_live_router
from dashboard.protocol import bus_stream_id
from dashboard.readback import (
    MAX_PENDING_BYTES,
    MAX_PENDING_ENTRIES,
    WRITE_CHUNK_BYTES,
    EventStreamReader,
    Readback,
    accepts_event_stream,
    format_event,
)
from dashboard.stream import MAX_HISTORY_BYTES, BusUnavailable

STREAM = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus(max_length=10_000)


@pytest.fixture
async def client(bus: MemoryBus) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    readback = Readback(bus, default_history=500, keepalive_seconds=15)
    app.include_router(build_live_router(ingest=Ingest(bus), readback=readback))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def publish(bus: MemoryBus, count: int) -> list[str]:
    entries = [LogEntry(message=f"m{i}", timestamp=time.time()) for i in range(count)]
    return await bus.publish(bus_stream_id(STREAM), entries)


async def test_entries_without_after_are_the_newest_oldest_first(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    ids = await publish(bus, 30)
    response = await client.get(f"/live/{STREAM}/entries", params={"limit": 5})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    page = response.json()
    assert [entry["message"] for entry in page["entries"]] == ["m25", "m26", "m27", "m28", "m29"]
    assert page["next_after"] == ids[-1]
    assert set(page["entries"][0]) == {"id", "ts", "level", "program", "message"}


async def test_entries_page_through_a_stream_with_next_after(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    ids = await publish(bus, 250)
    seen: list[str] = []
    after = "0"
    while True:
        page = (await client.get(f"/live/{STREAM}/entries", params={"after": after, "limit": 100})).json()
        if not page["entries"]:
            assert page["next_after"] == after, "an empty page keeps the cursor where it was"
            break
        seen.extend(entry["id"] for entry in page["entries"])
        after = page["next_after"]
    assert seen == ids


async def test_entries_of_an_unknown_stream_are_an_empty_page(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/live/{STREAM}/entries")
    assert response.json() == {"entries": [], "next_after": None, "next_before": None, "kept": 0, "scanned": 0,
                               "reached_start": True, "reached_end": True}


@pytest.mark.parametrize(("query", "detail"), [
    ({"after": "yesterday"}, "after must be an entry ID"),
    ({"after": "1-2-3"}, "after must be an entry ID"),
    ({"limit": "0"}, "limit must be a whole number from 1 to 1000"),
    ({"limit": "5000"}, "limit must be a whole number from 1 to 1000"),
    ({"limit": "-1"}, "limit must be a whole number from 1 to 1000"),
])
async def test_bad_entries_queries_are_422(client: httpx.AsyncClient, query: dict[str, str], detail: str) -> None:
    response = await client.get(f"/live/{STREAM}/entries", params=query)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)


async def test_follow_refuses_a_client_that_accepts_only_json(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/live/{STREAM}", headers={"accept": "application/json"})
    assert response.status_code == 406
    assert "/entries" in response.json()["detail"]


@pytest.mark.parametrize(("query", "headers", "named"), [
    ({"history": "lots"}, {}, "history"),
    ({"history": "20000"}, {}, "history"),
    ({"after": "x"}, {}, "after"),
    ({}, {"last-event-id": "not-an-id"}, "Last-Event-ID"),  # it named `after`, which was not sent
    ({"after": "0-0"}, {"last-event-id": "not-an-id"}, "Last-Event-ID"),  # the header wins
])
async def test_bad_follow_requests_are_422_naming_what_is_wrong(client: httpx.AsyncClient, query: dict[str, str],
                                                                headers: dict[str, str], named: str) -> None:
    response = await client.get(f"/live/{STREAM}", params=query, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{named} must be ")


@pytest.mark.parametrize(("accept", "allowed"), [
    (None, True), ("text/event-stream", True), ("*/*", True), ("text/*", True),
    ("application/json", False), ("text/event-stream;q=0, application/json", False),
    ("application/json, text/event-stream; q=0.5", True),
])
def test_accept_header(accept: str | None, allowed: bool) -> None:
    assert accepts_event_stream(accept) is allowed


def test_an_event_carries_the_id_and_one_line_of_json() -> None:
    stream_entry = StreamEntry("1700000000000-4", LogEntry(message="two\nlines", timestamp=1.5, fields_json=b'{"k":1}'))
    event = format_event(stream_entry)
    lines = event.decode().split("\n")
    assert lines[0] == "id: 1700000000000-4"
    assert lines[1].startswith("data: ") and lines[2:] == ["", ""]
    assert orjson.loads(lines[1].removeprefix("data: "))["message"] == "two\nlines"


def stream_entries(count: int, start: int = 0) -> list[StreamEntry]:
    return [StreamEntry(f"{1000 + i}-0", LogEntry(message=f"m{i}", timestamp=1.0)) for i in range(start, start + count)]


async def collect(reader: EventStreamReader, finished: list[bool], until: bytes, timeout: float = 2) -> bytes:
    body = b""
    events = reader.events(lambda: finished.append(True))
    async with asyncio.timeout(timeout):
        async for chunk in events:
            body += chunk
            if until in body:
                break
    await events.aclose()
    return body


async def test_an_idle_event_stream_gets_keep_alive_comments() -> None:
    reader = EventStreamReader(keepalive_seconds=0.05)
    finished: list[bool] = []
    body = await collect(reader, finished, until=b": keep-alive\n\n: keep-alive\n\n")
    assert body.startswith(b"retry: ")
    assert finished == [True], "leaving the stream releases its subscription"


async def test_a_reader_too_far_behind_is_sent_what_it_has_then_disconnected() -> None:
    reader = EventStreamReader(keepalive_seconds=15)
    reader.deliver(stream_entries(MAX_PENDING_ENTRIES))
    reader.deliver(stream_entries(5, start=MAX_PENDING_ENTRIES))  # over the bound
    reader.deliver(stream_entries(5, start=MAX_PENDING_ENTRIES + 5))  # ignored: it will resume from the bus
    finished: list[bool] = []
    chunks = [chunk async for chunk in reader.events(lambda: finished.append(True))]
    body = b"".join(chunks)
    assert body.count(b"\nid: ") + body.startswith(b"id: ") == MAX_PENDING_ENTRIES + 5
    assert chunks[-1].startswith(b": too far behind")
    assert finished == [True]


async def test_ending_a_reader_sends_what_is_queued_and_stops() -> None:
    reader = EventStreamReader(keepalive_seconds=15)
    reader.deliver(stream_entries(3))
    reader.end()
    finished: list[bool] = []
    body = b"".join([chunk async for chunk in reader.events(lambda: finished.append(True))])
    assert body.count(b"data: ") == 3
    assert b": the server is stopping" in body
    assert finished == [True]


class DownBus(MemoryBus):
    """A bus whose backend is down."""

    async def read(self, stream_id: str, *, after: str | None, limit: int) -> list[StreamEntry]:
        raise BusUnavailable("redis is down")

    async def _backlog(self, stream_id: str, *, history: int, after: str | None,
                       limit: int | None = None) -> tuple[list[StreamEntry], str | None]:
        raise BusUnavailable("redis is down")


@pytest.mark.parametrize("path", [f"/live/{STREAM}", f"/live/{STREAM}/entries"])
async def test_reading_while_the_bus_is_down_is_503_with_retry_after(path: str) -> None:
    app = FastAPI()
    readback = Readback(DownBus(max_length=10), default_history=5, keepalive_seconds=15)
    app.include_router(build_live_router(ingest=None, readback=readback))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        response = await http.get(path)
    assert (response.status_code, response.headers["retry-after"]) == (503, "1")
    assert response.json() == {"detail": "the log bus is unavailable; retry shortly"}


def big_entries(count: int, size: int, start: int = 0) -> list[StreamEntry]:
    return [StreamEntry(f"{1000 + i}-0", LogEntry(message=f"{i:06d}" + "b" * size, timestamp=1.0))
            for i in range(start, start + count)]


async def test_a_page_of_entries_ends_at_its_byte_bound(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    await bus.publish(bus_stream_id(STREAM), [LogEntry(message=f"{i:03d}" + "p" * 60_000, timestamp=1.0)
                                              for i in range(100)])
    newest = (await client.get(f"/live/{STREAM}/entries", params={"limit": 1000})).json()
    count = len(newest["entries"])
    assert 10 <= count < 100 and count * 60_000 <= MAX_PAGE_BYTES, "a page holds what fits in its bound"
    assert newest["entries"][-1]["message"].startswith("099"), "without after: the newest that fit"
    oldest = (await client.get(f"/live/{STREAM}/entries", params={"after": "0", "limit": 1000})).json()
    assert oldest["entries"][0]["message"].startswith("000") and len(oldest["entries"]) == count
    assert oldest["next_after"] == oldest["entries"][-1]["id"], "paging on from there misses nothing"


async def test_history_is_cut_to_its_newest_entries_within_the_bound(bus: MemoryBus) -> None:
    stored = await bus.publish(STREAM, [LogEntry(message=f"{i:03d}" + "h" * 60_000, timestamp=1.0)
                                        for i in range(200)])  # 12 MB of history
    got: list[StreamEntry] = []
    subscription = await bus.subscribe(STREAM, got.extend, history=10_000)
    assert 10 <= len(got) < 200 and len(got) * 60_000 <= MAX_HISTORY_BYTES
    assert got[-1].id == stored[-1], "the newest of the history"
    subscription.close()
    resumed: list[StreamEntry] = []
    (await bus.subscribe(STREAM, resumed.extend, history=0, after=stored[9])).close()
    assert len(resumed) == 190, "a resume is never cut: it would leave a gap"


async def test_a_reader_too_many_bytes_behind_is_disconnected() -> None:
    reader = EventStreamReader(keepalive_seconds=15)
    for start in range(0, 300, 10):  # 18 MB of live entries, nobody reading
        reader.deliver(big_entries(10, 60_000, start=start))
    chunks = [chunk async for chunk in reader.events(lambda: None)]
    assert chunks[-1].startswith(b": too far behind")
    sent = b"".join(chunks).count(b"data: ")
    assert sent * 60_000 <= MAX_PENDING_BYTES + 10 * 61_000, "it stopped queueing once past the bound"
    assert max(len(chunk) for chunk in chunks) <= WRITE_CHUNK_BYTES + 61_000, "written in pieces, not one buffer"


async def test_a_notice_about_the_stream_reaches_the_client_as_a_comment() -> None:
    reader = EventStreamReader(keepalive_seconds=15)
    reader.tell("the server dropped this stream")
    reader.end()
    body = b"".join([chunk async for chunk in reader.events(lambda: None)])
    assert b"\n: the server dropped this stream\n\n" in body


async def test_a_client_that_stops_reading_is_cut_off() -> None:
    reader = EventStreamReader(keepalive_seconds=0.01)
    finished: list[bool] = []
    response = readback._EventStreamResponse(reader.events(lambda: finished.append(True)), 0.1,
                                             lambda: finished.append(True), media_type="text/event-stream")
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)
        if len(sent) >= 3:  # the client takes the headers and the first piece, then nothing
            await asyncio.Event().wait()

    async with asyncio.timeout(5):
        await response.stream_response(send)  # type: ignore[arg-type]
    assert len(sent) == 3 and finished == [True]


async def test_before_pages_back_and_the_cursors_page_either_way(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    ids = await publish(bus, 250)
    newest = (await client.get(f"/live/{STREAM}/entries", params={"limit": 100})).json()
    assert [e["id"] for e in newest["entries"]] == ids[150:]
    assert (newest["next_before"], newest["next_after"]) == (ids[150], ids[-1])
    assert (newest["kept"], newest["scanned"]) == (250, 100)
    assert (newest["reached_start"], newest["reached_end"]) == (False, True)
    older = (await client.get(f"/live/{STREAM}/entries", params={"before": ids[150], "limit": 100})).json()
    assert [e["id"] for e in older["entries"]] == ids[50:150], "oldest first, like every page"
    assert (older["next_after"], older["reached_end"]) == (ids[149], False)
    oldest = (await client.get(f"/live/{STREAM}/entries", params={"before": ids[50], "limit": 100})).json()
    assert [e["id"] for e in oldest["entries"]] == ids[:50] and oldest["reached_start"]
    assert oldest["next_before"] == ids[0]
    past_start = (await client.get(f"/live/{STREAM}/entries", params={"before": ids[0]})).json()
    assert past_start["entries"] == [] and past_start["reached_start"] and past_start["next_before"] == ids[0]
    forward = (await client.get(f"/live/{STREAM}/entries", params={"after": older["next_after"], "limit": 5})).json()
    assert [e["id"] for e in forward["entries"]] == ids[150:155]


async def test_before_and_after_together_are_422(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/live/{STREAM}/entries", params={"before": "5-0", "after": "1-0"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("before cannot be combined with after")


async def test_a_filtered_page_has_limit_matches_found_by_scanning(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    ids = await bus.publish(bus_stream_id(STREAM), [
        LogEntry(message=f"m{i}", timestamp=1.0, level="ERROR" if i % 10 == 0 else "INFO") for i in range(1000)])
    page = (await client.get(f"/live/{STREAM}/entries", params={"level": "error", "limit": 5})).json()
    assert [e["message"] for e in page["entries"]] == ["m950", "m960", "m970", "m980", "m990"]
    assert (page["scanned"], page["next_before"], page["next_after"]) == (50, ids[950], ids[-1])
    forward = (await client.get(f"/live/{STREAM}/entries", params={"level": "error", "after": "0", "limit": 3})).json()
    assert [e["message"] for e in forward["entries"]] == ["m0", "m10", "m20"]
    assert (forward["scanned"], forward["next_after"], forward["reached_start"]) == (21, ids[20], True)


async def test_a_rare_match_costs_each_request_a_bounded_scan_that_says_where_to_go_on() -> None:
    bus = MemoryBus(max_length=30_000)
    app = FastAPI()
    app.include_router(build_live_router(ingest=None, readback=Readback(bus, default_history=5, keepalive_seconds=15)))
    ids = await bus.publish(bus_stream_id(STREAM), [LogEntry(message="needle" if i == 3 else f"hay {i}", timestamp=1.0)
                                                    for i in range(25_000)])
    pages = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        params: dict[str, str] = {"q": "needle"}
        while not pages or not pages[-1]["reached_start"]:
            pages.append((await http.get(f"/live/{STREAM}/entries", params=params)).json())
            params["before"] = pages[-1]["next_before"]
    assert [page["scanned"] for page in pages] == [MAX_SCANNED, MAX_SCANNED, 5000]
    assert [len(page["entries"]) for page in pages] == [0, 0, 1] and pages[-1]["entries"][0]["id"] == ids[3]
    assert pages[0]["next_before"] == ids[-MAX_SCANNED] and not pages[0]["reached_start"]


async def test_a_scan_stops_at_its_time_budget(bus: MemoryBus) -> None:
    await bus.publish(STREAM, [LogEntry(message=f"m{i}", timestamp=1.0) for i in range(5000)])
    # Each reading of the clock finds it a 250th of the budget later: the time is up at the 250th.
    ticks = iter(range(0, 100_000))
    page = await read_page(bus, STREAM, parse_entry_query(QueryParams("q=nothing")), after="0", before=None,
                           limit=100, clock=lambda: next(ticks) * SCAN_SECONDS / 250)
    # Read at each entry, not after each chunk of SCAN_CHUNK: a chunk of long lines cannot overrun it.
    assert SCAN_CHUNK < page.scanned <= 250 and page.entries == [] and not page.reached_end


async def test_a_scan_lets_other_work_run_at_least_every_slice(bus: MemoryBus) -> None:
    """The memory bus's reads never suspend: a scan that held the event loop for its whole budget left
    every other request unread behind it (and out of the scan slots' line, so never refused)."""
    await bus.publish(STREAM, [LogEntry(message=f"m{i}", timestamp=1.0) for i in range(5000)])
    ticks = iter(range(0, 100_000))
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    before = turns
    await read_page(bus, STREAM, parse_entry_query(QueryParams("q=nothing")), after="0", before=None, limit=100,
                    clock=lambda: next(ticks) * SCAN_SECONDS / 250)
    other.cancel()
    # About one turn a slice (the clock is read a few more times than once an entry); once a chunk
    # of SCAN_CHUNK entries before, which here is once in the whole scan.
    assert turns - before >= SCAN_SECONDS / SCAN_SLICE_SECONDS / 2


async def test_a_regex_match_against_a_long_entry_leaves_the_event_loop_free(bus: MemoryBus) -> None:
    """RE2 takes about a second to match a costly pattern against an entry of 1 MiB, and one entry's match
    cannot be cut short: on the event loop it held every other request of the process for that long."""
    await bus.publish(STREAM, [LogEntry(message="x" * (OFF_LOOP_SEARCH_CHARS + 1), timestamp=1.0)])
    other_work_ran = threading.Event()

    def slow_test(text: str) -> bool:  # stands for the long match: it ends once other work has run meanwhile
        return other_work_ran.wait(timeout=5)

    async def other_work() -> None:
        await asyncio.sleep(0.01)
        other_work_ran.set()

    other = asyncio.create_task(other_work())
    page = await read_page(bus, STREAM, EntryQuery(text_test=slow_test, regex=True), after="0", before=None,
                           limit=10)
    await other
    assert len(page.entries) == 1


async def test_a_long_match_waiting_in_a_busy_pool_past_the_scans_time_ends_the_page_before_it(
        bus: MemoryBus) -> None:
    """The pool is shared by every scan of the process: a scan waited there for others' matches, past its time
    and holding its scan slot."""
    short, long_text = "x", "x" * (OFF_LOOP_SEARCH_CHARS + 1)
    ids = await bus.publish(STREAM, [LogEntry(message=text, timestamp=1.0) for text in (short, long_text, short)])
    release = threading.Event()
    busy = [entry_pages._LONG_MATCHES.submit(release.wait, 10) for _ in range(2)]  # both threads taken
    try:
        query = parse_entry_query(QueryParams("q=x&re=1"))
        # The scan's clock stands still: the wait's timer (uvloop's, to the millisecond) may fire before the
        # clock reads the deadline, and then the scan went on past the rest of the chunk, skipping it.
        page = await read_page(bus, STREAM, query, after="0", before=None, limit=10, budget=ScanBudget(seconds=0.2),
                               clock=lambda: 0.0)
    finally:
        release.set()
    assert [future.result() for future in busy] == [True, True]
    assert [entry.id for entry in page.entries] == ids[:1] and page.scanned == 1 and page.next_after == ids[0]
    assert not page.reached_end
    # The next page starts with the long entry, and scans it whatever its wait: each page moves on.
    page = await read_page(bus, STREAM, query, after=ids[0], before=None, limit=10)
    assert [entry.id for entry in page.entries] == ids[1:]


def test_only_a_regex_against_a_long_text_is_matched_off_the_event_loop() -> None:
    regex = parse_entry_query(QueryParams("q=a.c&re=1"))
    plain = parse_entry_query(QueryParams("q=abc"))
    long_text = "abc" * OFF_LOOP_SEARCH_CHARS
    long_message = LogEntry(message=long_text, timestamp=1.0)
    long_fields = LogEntry(message="m", timestamp=1.0, fields_json=orjson.dumps({"text": long_text}))
    short = LogEntry(message="abc", timestamp=1.0, fields_json=b'{"text":"abc"}')
    assert regex.matches_off_loop(long_message) and regex.matches_off_loop(long_fields)
    assert not regex.matches_off_loop(short)
    assert not plain.matches_off_loop(long_message) and not plain.matches_off_loop(long_fields)
    assert regex.matches(long_fields) and plain.matches(long_message)


async def test_a_scan_whose_time_ran_out_while_others_ran_stops_there(bus: MemoryBus) -> None:
    await bus.publish(STREAM, [LogEntry(message=f"m{i}", timestamp=1.0) for i in range(1000)])
    now = 0.0
    scanned_ids: list[str] = []
    scanned_when_others_ran: list[int] = []

    def clock() -> float:
        nonlocal now
        now += SCAN_SLICE_SECONDS / 4
        return now

    async def long_other_work() -> None:  # runs at the scan's first yield, and takes its whole budget
        nonlocal now
        scanned_when_others_ran.append(len(scanned_ids))
        now += SCAN_SECONDS

    other = asyncio.create_task(long_other_work())
    page = await read_page(bus, STREAM, parse_entry_query(QueryParams("q=nothing")), after="0", before=None,
                           limit=100, clock=clock, scanned_ids=scanned_ids)
    await other
    assert scanned_when_others_ran and page.scanned == scanned_when_others_ran[0] > 0


async def test_filtered_reads_beyond_the_slots_and_the_line_are_refused_with_503(client: httpx.AsyncClient,
                                                                                 bus: MemoryBus) -> None:
    await publish(bus, 5000)
    running = 0
    most = 0
    real_read = bus.read

    async def slow_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.01)  # a chunk's scan takes time
            return await real_read(*args, **kwargs)
        finally:
            running -= 1

    bus.read = slow_read  # type: ignore[method-assign]
    many = readback.MAX_SCANS_AT_ONCE + readback.MAX_SCANS_WAITING + 10
    answers = await asyncio.gather(*[client.get(f"/live/{STREAM}/entries", params={"q": "no such text"})
                                     for _ in range(many)])
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == readback.MAX_SCANS_AT_ONCE + readback.MAX_SCANS_WAITING
    refused = [answer for answer in answers if answer.status_code == 503]
    assert len(refused) == 10
    assert refused[0].json()["detail"].startswith("too many filtered reads at once")
    assert refused[0].headers["retry-after"] == "1"
    assert most <= readback.MAX_SCANS_AT_ONCE  # the rest waited in line
    # A plain page (no filter, one read) needs no slot.
    assert (await client.get(f"/live/{STREAM}/entries", params={"limit": 5})).status_code == 200
