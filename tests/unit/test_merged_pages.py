"""A merged view's history, older lines and search all, over any interleaving of its streams (ties in
one millisecond included): page after page, every entry comes once, in ID order, down to the start."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from dashboard.entry import LogEntry, StreamEntry
from dashboard.entry_pages import FULL_SCAN, MAX_SCANNED, SCAN_SECONDS, EntryPage, ScanBudget, read_page
from dashboard.entry_query import parse_entry_query
from dashboard.merged_pages import from_common_start, merged_by_id, newest_page, search_page
from dashboard.pages.stream_keys import MAX_MERGED_STREAMS
from dashboard.protocol import entry_id_order

# Few milliseconds and sequences: streams' entries often share an ID.
NEWER_THAN_ALL = "99-0"


def stream_entries(stream: int, ids: list[tuple[int, int]], hits: list[bool]) -> list[StreamEntry]:
    return [StreamEntry(f"{ms}-{seq}", LogEntry(message=f"{'hit' if hit else 'miss'} s{stream} {ms}-{seq}",
                                                timestamp=1.0))
            for (ms, seq), hit in zip(ids, hits, strict=True)]


@st.composite
def streams(draw: st.DrawFn) -> list[list[StreamEntry]]:
    """A few streams, each its entries in ID order, some of them "hit" (what a search looks for)."""
    count = draw(st.integers(1, 4))
    result = []
    for index in range(count):
        ids = sorted(draw(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 2)), max_size=25, unique=True)))
        result.append(stream_entries(index, ids, draw(st.lists(st.booleans(), min_size=len(ids), max_size=len(ids)))))
    return result


def newest_before(stream: list[StreamEntry], before: str, limit: int) -> list[StreamEntry]:
    """What `Bus.read_before` answers."""
    older = [stream_entry for stream_entry in stream if entry_id_order(stream_entry.id) < entry_id_order(before)]
    return older[-limit:]


def byte_bounds() -> st.SearchStrategy[int]:
    size = StreamEntry("1-0", LogEntry(message="miss s0 1-0", timestamp=1.0)).entry.memory_size()
    return st.sampled_from([1, size * 2 + 1, size * 5, 10**9])


@settings(max_examples=300)
@given(streams(), st.integers(1, 12), st.data())
def test_a_merged_view_opens_with_no_hole_and_its_older_pages_tile_the_streams_down_to_their_start(
        stream_list: list[list[StreamEntry]], history: int, data: st.DataObject) -> None:
    everything = merged_by_id(stream_list)
    # Each stream's subscription gives its newest `history` and says if that is the whole stream.
    opened = [stream[-history:] for stream in stream_list]
    held, held_streams = merged_by_id(from_common_start(opened, [len(stream) < history for stream in stream_list]))
    cut = len(everything[0]) - len(held)
    assert (held, held_streams) == (everything[0][cut:], everything[1][cut:])  # the newest rows, no hole
    assert held or not everything[0]
    before = held[0].id if held else NEWER_THAN_ALL
    for _ in range(len(everything[0]) + 1):  # each ask gets at least one entry, or says it got to the start
        limit = data.draw(st.integers(1, 6), label="limit")
        reads = [newest_before(stream, before, limit) for stream in stream_list]
        page = newest_page(reads, [len(read) < limit for read in reads], limit=limit,
                           max_bytes=data.draw(byte_bounds(), label="max_bytes"))
        if not page.entries:
            assert page.reached_start
            break
        # The browser puts a page above its rows only if every entry is older than its oldest row.
        assert entry_id_order(page.entries[-1].id) < entry_id_order(before)
        held, held_streams = page.entries + held, page.streams + held_streams
        before = page.entries[0].id
        if page.reached_start:
            break
    else:
        raise AssertionError("the pages did not get to the start")
    assert (held, held_streams) == everything


class ListBus:
    """The two reads `read_page` makes, of streams given as lists."""

    def __init__(self, stream_list: list[list[StreamEntry]]) -> None:
        self.streams = {f"s{index}": stream for index, stream in enumerate(stream_list)}

    async def read(self, stream_id: str, *, after: str | None, limit: int) -> list[StreamEntry]:
        assert after is None
        return self.streams[stream_id][-limit:]

    async def read_before(self, stream_id: str, *, before: str, limit: int) -> list[StreamEntry]:
        return newest_before(self.streams[stream_id], before, limit)


async def scan_each(bus: ListBus, before: str, limit: int,
                    budgets: list[ScanBudget]) -> tuple[list[EntryPage], list[list[str]]]:
    query = parse_entry_query(QueryParams("q=hit"))
    pages, scanned_ids = [], []
    for index, budget in enumerate(budgets):
        scanned_ids.append([])
        pages.append(await read_page(bus, f"s{index}", query, after=None, before=before, limit=limit,  # type: ignore[arg-type]
                                     clock=lambda: 0.0, budget=budget, scanned_ids=scanned_ids[-1]))
    return pages, scanned_ids


@settings(max_examples=300)
@given(streams(), st.data())
def test_search_all_on_a_merged_view_finds_each_match_once_and_counts_each_entry_scanned_once(
        stream_list: list[list[StreamEntry]], data: st.DataObject) -> None:
    bus = ListBus(stream_list)
    hits = [[stream_entry for stream_entry in stream if stream_entry.entry.message.startswith("hit")]
            for stream in stream_list]
    found: tuple[list[StreamEntry], list[int]] = ([], [])
    scanned = 0
    before = NEWER_THAN_ALL
    for _ in range(sum(len(stream) for stream in stream_list) + 1):
        limit = data.draw(st.integers(1, 5), label="limit")
        # Each stream's scan stops at a point of its own: budgets of a few entries, different per stream.
        budgets = [ScanBudget(data.draw(st.integers(1, 8), label="entries"), 1.0) for _ in stream_list]
        pages, scanned_ids = asyncio.run(scan_each(bus, before, limit, budgets))
        page = search_page(pages, scanned_ids, limit=limit, max_bytes=data.draw(byte_bounds(), label="max_bytes"))
        if page.entries:
            assert entry_id_order(page.entries[-1].id) < entry_id_order(before)
        found = (page.entries + found[0], page.streams + found[1])
        scanned += page.scanned
        if page.reached_start:
            break
        assert page.next_before is not None
        assert entry_id_order(page.next_before) <= entry_id_order(before)
        before = page.next_before
    else:
        raise AssertionError("the search did not get to the start")
    assert found == merged_by_id(hits)
    assert scanned == sum(len(stream) for stream in stream_list)  # "searched the newest N": each entry once


def test_a_search_of_several_streams_scans_no_more_in_all_than_one_of_one_stream() -> None:
    shares = [FULL_SCAN.split(count) for count in range(1, MAX_MERGED_STREAMS + 1)]
    for count, share in enumerate(shares, start=1):
        assert share.entries * count <= MAX_SCANNED and share.seconds * count <= SCAN_SECONDS * 1.0001
        assert share.entries >= 1


def test_a_merged_page_drops_what_one_stream_read_below_where_another_stopped() -> None:
    # Stream 0 stopped at 10-0 (more before it); stream 1 read down to 2-0 and stopped there too.
    a = stream_entries(0, [(10, 0), (12, 0)], [True, True])
    b = stream_entries(1, [(2, 0), (11, 0)], [True, True])
    pages = [EntryPage(a, next_after=None, next_before="10-0", scanned=3, reached_start=False, reached_end=False),
             EntryPage(b, next_after=None, next_before="2-0", scanned=4, reached_start=False, reached_end=False)]
    page = search_page(pages, [["12-0", "11-0", "10-0"], ["15-0", "11-0", "5-0", "2-0"]], limit=10, max_bytes=10**9)
    assert [stream_entry.id for stream_entry in page.entries] == ["10-0", "11-0", "12-0"]
    assert page.streams == [0, 1, 0] and page.next_before == "10-0" and page.scanned == 5
    assert not page.reached_start
