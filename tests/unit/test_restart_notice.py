"""The restart notice's decision: lines of this stream, shown by another instance of the server, are gone."""

from __future__ import annotations

import json
from typing import Any, cast

from nicegui import Client

from dashboard.pages.restart_notice import SERVER_INSTANCE, RestartNotice, _lines_were_lost, _parse

STREAM = "0d61079e-4c95-49b3-9f35-c034c6b4771a"


def test_lines_shown_by_another_instance_of_the_server_are_gone() -> None:
    assert _lines_were_lost({"server": "an-earlier-one", "stream": STREAM, "rows": True}, STREAM)


def test_no_notice_for_the_same_server_another_stream_or_a_page_that_showed_nothing() -> None:
    assert not _lines_were_lost({"server": SERVER_INSTANCE, "stream": STREAM, "rows": True}, STREAM)
    assert not _lines_were_lost({"server": "an-earlier-one", "stream": "another", "rows": True}, STREAM)
    assert not _lines_were_lost({"server": "an-earlier-one", "stream": STREAM, "rows": False}, STREAM)
    assert not _lines_were_lost({}, STREAM)


def test_what_the_browser_sends_is_data_and_anything_odd_is_no_record() -> None:
    record = {"server": "x", "stream": STREAM, "rows": True}
    assert _parse(json.dumps(record)) == record
    for odd in (None, 42, "", "not json", "[1, 2]", '"a string"', {"server": "x"}):
        assert _parse(odd) == {}
    assert not _lines_were_lost(_parse(json.dumps({"server": 1, "stream": STREAM, "rows": "yes"})), STREAM)


class _Untouchable:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the page was asked for {name}")


async def test_a_bus_that_keeps_its_entries_asks_the_page_nothing() -> None:
    shown: list[str] = []
    notice = RestartNotice(STREAM, shown.append, entries_survive=True)
    await notice.check(cast(Client, _Untouchable()))
    assert shown == []
    notice.watch(lambda entries, stream: None)([], None)
