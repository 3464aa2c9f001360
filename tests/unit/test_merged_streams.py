"""A merged view's address and its merged history: which streams a path names, and rows merged by time."""

from __future__ import annotations

import json
import uuid

from hypothesis import given
from hypothesis import strategies as st

from dashboard.elements.log_view import _resume_points
from dashboard.elements.rows_feed import EncodedBatch, encoded
from dashboard.entry import LogEntry, StreamEntry
from dashboard.merged_pages import merged_by_id
from dashboard.pages.stream_keys import (
    MAX_ADDRESS_PARTS,
    MAX_MERGED_STREAMS,
    TooManyParts,
    TooManyStreams,
    is_short_key,
    keys_in_text,
    keys_path,
    named_streams,
    page_keys,
    page_streams,
    short_keys,
)
from dashboard.protocol import entry_id_order, view_key


def key() -> str:
    return str(uuid.uuid4())


def test_a_path_of_keys_joined_by_plus_names_each_stream_once_in_lower_case() -> None:
    a, b = key(), key()
    assert page_keys(f"{a}+{b}") == [a, b]
    assert page_keys(f"{a.upper()}+{b}") == [a, b]
    assert page_keys(f"{a}+{b}+{a}") == [a, b]
    assert page_keys(a) == [a]
    assert keys_path([a, b]) == f"/{a}+{b}"


def test_a_write_key_and_its_view_key_are_one_stream_and_the_first_given_stays() -> None:
    a = key()
    assert page_keys(f"{view_key(a)}+{a}") == [view_key(a)]
    assert page_keys(f"{a}+{view_key(a)}") == [a]


def test_anything_malformed_names_no_stream() -> None:
    a = key()
    for path in (f"{a}+", f"+{a}", f"{a}++{a}", f"{a}+garbage", f"{a} +{key()}", f"{a}+{a[:-1]}", f"{a}+{a}x",
                 "+", "", f"{a}%2B{key()}", f"{a}+<b>"):
        assert page_keys(path) is None, path


def test_more_streams_than_a_merged_view_follows_are_refused_by_count() -> None:
    keys = [key() for _ in range(MAX_MERGED_STREAMS + 1)]
    assert page_keys("+".join(keys[:-1])) == keys[:-1]
    assert page_keys("+".join(keys)) == TooManyStreams(MAX_MERGED_STREAMS + 1)
    assert page_keys("+".join(["x"] * 1000)) == TooManyParts(1000)  # not parsed at all


def test_repeats_collapse_before_the_streams_are_counted_and_only_a_huge_address_is_refused_unread() -> None:
    a, b = key(), key()
    assert page_keys("+".join([a] * (4 * MAX_MERGED_STREAMS + 1))) == [a]
    assert page_keys("+".join([a, view_key(a), a.upper(), b] * (MAX_ADDRESS_PARTS // 4))) == [a, b]
    assert page_keys("+".join([a] * MAX_ADDRESS_PARTS)) == [a]
    assert page_keys("+".join([a] * (MAX_ADDRESS_PARTS + 1))) == TooManyParts(MAX_ADDRESS_PARTS + 1)


def test_keys_are_found_in_pasted_urls_and_short_keys_name_them() -> None:
    a, b = key(), key()
    assert keys_in_text(f"http://host:8000/live/{a.upper()}?level=info") == [a]
    assert keys_in_text(f"https://logs.example/{a}+{b}?q=x") == [a, b]
    assert keys_in_text(f" {b} ") == [b]
    assert keys_in_text(f"{a}0") == [] and keys_in_text("nothing here") == []
    assert short_keys([a, b]) == [a[:8], b[:8]] and all(is_short_key(short) for short in short_keys([a, b]))
    assert not is_short_key("ABCDEF12") and not is_short_key("abc") and not is_short_key(a + "0")


def test_keys_that_start_alike_get_names_as_long_as_tells_them_apart_and_links_hide_exactly_one() -> None:
    a = "3f8a7c2e-1b4d-4e6f-9a0b-1c2d3e4f5a6b"
    b = "3f8a7c2e-1b5d-4e6f-9a0b-1c2d3e4f5a6b"  # the same first 11 characters
    c = key()
    shorts = short_keys([a, b, c])
    assert shorts == [a[:12], b[:12], c[:12]] and len(set(shorts)) == 3
    assert [stream["short"] for stream in page_streams([a, b, c])] == shorts
    assert all(is_short_key(short) for short in shorts)
    # An old 8-character link names a stream only where no other stream of the view starts so.
    assert named_streams([a[:8]], [a, b, c]) == []
    assert named_streams([c[:8]], [a, b, c]) == [c[:12]]
    assert named_streams([b[:12], b[:12], a], [a, b, c]) == [b[:12], a[:12]]
    assert named_streams([a[:8]], [a, c]) == [a[:8]]  # once b is out of the view, its names are short again
    assert named_streams([a[:12]], [a, c]) == [a[:8]]


def entries(ids: list[tuple[int, int]], stream: str) -> list[StreamEntry]:
    return [StreamEntry(f"{ms}-{seq}", LogEntry(message=f"{stream} {ms}-{seq}", timestamp=1.0)) for ms, seq in ids]


def sorted_ids(max_size: int = 30) -> st.SearchStrategy[list[tuple[int, int]]]:
    return st.lists(st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 5)), max_size=max_size,
                    unique=True).map(sorted)


@given(st.lists(sorted_ids(), min_size=1, max_size=MAX_MERGED_STREAMS))
def test_histories_merge_in_id_order_with_nothing_lost_and_each_row_marked_with_its_stream(
        histories: list[list[tuple[int, int]]]) -> None:
    batches = [entries(ids, f"s{index}") for index, ids in enumerate(histories)]
    merged, streams = merged_by_id(batches)
    assert len(merged) == len(streams) == sum(len(batch) for batch in batches)
    orders = [entry_id_order(stream_entry.id) for stream_entry in merged]
    assert orders == sorted(orders)
    for index, batch in enumerate(batches):  # each stream's rows, in their order, marked as its own
        assert [e for e, s in zip(merged, streams, strict=True) if s == index] == batch
    for position in range(1, len(merged)):  # a tie keeps the order of the streams
        if orders[position] == orders[position - 1]:
            assert streams[position - 1] < streams[position]


def payload(packet_text: str) -> dict:
    return json.loads(packet_text[2:])[1]


def test_live_rows_carry_their_stream_in_the_envelope_and_stay_shared_by_every_page_alike() -> None:
    batch = entries([(1, 0), (2, 0)], "a")
    shared = encoded(batch)
    as_second = shared.messages(history=False, stream=1)
    assert shared.messages(history=False, stream=1) is as_second  # encoded once for all pages that show it 2nd
    message = payload(as_second.packets[0].encode())
    assert message["stream"] == 1 and all("s" not in row for row in message["rows"])
    assert "stream" not in payload(shared.messages(history=False).packets[0].encode())  # a page of one stream


def test_a_merged_history_carries_each_rows_stream_in_the_row() -> None:
    merged, streams = merged_by_id([entries([(1, 0), (3, 0)], "a"), entries([(2, 0)], "b")])
    message = payload(EncodedBatch(merged, streams).messages(history=True).packets[0].encode())
    assert [(row["id"], row["s"]) for row in message["rows"]] == [("1-0", 0), ("2-0", 1), ("3-0", 0)]


def test_a_page_resumes_each_stream_after_its_own_last_row_and_nonsense_is_left_out() -> None:
    assert _resume_points({"after": "5-1"}) == {0: "5-1"}
    assert _resume_points({"after": "9-0", "after_by_stream": {"0": "5-1", "1": "9-0"}}) == {0: "5-1", 1: "9-0"}
    assert _resume_points({"after_by_stream": {"x": "5-1", "1": "<b>", "2": 7, "3": "4-0"}}) == {3: "4-0"}
    assert _resume_points({"after": None}) == {} and _resume_points("junk") == {}


def test_hidden_streams_go_through_the_url_by_short_key_and_odd_values_are_dropped() -> None:
    from dashboard.pages.view_filter import ViewFilter

    a, b = key(), key()
    view_filter = ViewFilter.from_query({"hide_stream": [f"{b[:8]},{a[:8]}", "<img>", "ABCDEF12", a[:8]]})
    assert view_filter.hidden_streams == tuple(sorted([a[:8], b[:8]]))
    assert ViewFilter.from_query({"hide_stream": [view_filter.to_query().split("=", 1)[1].replace("%2C", ",")]}) \
        == view_filter
    assert view_filter.to_component()["hidden_streams"] == list(view_filter.hidden_streams)
    assert "hidden_streams" not in ViewFilter().to_component()  # a page of one stream is sent what it was


def test_a_merged_views_live_rows_go_to_every_page_as_one_set_of_shared_frames() -> None:
    batch = encoded(entries([(1, 0)], "a"))
    as_second = batch.messages(history=False, stream=1)
    assert as_second.wire is as_second.wire  # framed once for every page that shows the stream 2nd
    assert json.loads(as_second.wire[0].text.decode()[2:])[1]["stream"] == 1
    assert batch.messages(history=False).wire[0].text != as_second.wire[0].text
