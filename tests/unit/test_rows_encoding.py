"""How rows go on the wire: encoded once per batch, in bounded messages that stay in order."""

from __future__ import annotations

import json

from dashboard.elements.rows_feed import MAX_MESSAGE_BYTES, ROWS_MESSAGE, encoded, joined, rows_packet
from dashboard.entry import LogEntry, StreamEntry


def batch(count: int, start: int = 0, size: int = 10) -> list[StreamEntry]:
    return [StreamEntry(f"1-{start + n}", LogEntry(message=f"{start + n} " + "x" * size, timestamp=1.0))
            for n in range(count)]


def messages(pieces: list[str]) -> list[str]:
    return [row["message"].split()[0] for piece in pieces for row in json.loads(piece)]


def test_a_batch_handed_to_many_viewers_in_turn_is_encoded_once() -> None:
    entries = batch(3)
    first = encoded(entries)
    assert encoded(entries) is first
    assert first.messages(history=False) is first.messages(history=False)  # one packet object for every page
    assert encoded(list(entries)) is not first  # another list is another batch


def test_the_packet_is_the_rows_event_with_the_rows_as_json() -> None:
    entries = batch(2)
    packet = encoded(entries).messages(history=True).packets[0].encode()
    assert packet.startswith("4")  # an engine.io message
    assert packet[1] == "2"  # a socket.io event on the default namespace
    name, payload = json.loads(packet[2:])
    assert name == ROWS_MESSAGE
    assert payload["history"] is True
    assert [row["id"] for row in payload["rows"]] == ["1-0", "1-1"]


def test_a_large_batch_goes_in_several_bounded_messages_in_order() -> None:
    entries = batch(400, size=1000)
    pieces = encoded(entries).pieces
    assert len(pieces) > 1
    assert all(len(piece) <= MAX_MESSAGE_BYTES for piece in pieces)
    assert messages(pieces) == [str(n) for n in range(400)]


def test_gathered_batches_are_joined_in_order_within_the_bound() -> None:
    gathered = [*encoded(batch(3)).pieces, "[]", *encoded(batch(300, start=3, size=1000)).pieces,
                *encoded(batch(2, start=303)).pieces]
    result = joined(gathered)
    assert messages(result) == [str(n) for n in range(305)]
    assert all(len(piece) <= MAX_MESSAGE_BYTES + 2 for piece in result)
    assert len(result) < len(gathered)


def test_rows_packet_says_what_kind_of_rows_it_carries() -> None:
    def payload(**kind: bool) -> dict:
        return json.loads(rows_packet("[]", **kind).encode()[2:])[1]

    assert payload(history=False) == {"history": False, "older": False, "rows": []}
    assert payload(history=True) == {"history": True, "older": False, "rows": []}
    assert payload(history=True, older=True) == {"history": True, "older": True, "rows": []}
