"""Follow a stream over HTTP (standard library only): history, then live entries, resuming after any break."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from .sender import USER_AGENT, backoff, error_detail

# The server comments every 15 s; a connection silent for this long is dead.
READ_TIMEOUT_S = 45.0
# A page of `/entries` is a bounded scan (half a second, and a short wait for a place; a server whose
# Redis does not answer says so with a 503 within 10 s): a server that has not answered one in this long
# is not answering, and the user is told so before it is asked again.
PAGE_TIMEOUT_S = 15.0
RECONNECT_FIRST_S = 0.25
RECONNECT_MAX_S = 5.0
REPLAY_PAGE = 1000

Entry = dict[str, Any]


class StreamGone(RuntimeError):
    """The server says this is not a stream (4xx); retrying cannot help."""


def follow(url: str, *, history: int = 10, on_status: Callable[[str], None] = lambda _: None,
           read_timeout: float = READ_TIMEOUT_S) -> Iterator[Entry]:
    """Yield the last `history` entries of the stream at `url` (`.../live/<uuid>`), then each new one, forever.

    Every connection after the first page resumes after the last entry seen, so a dropped
    connection or a restarted server costs no entry and repeats none.
    """
    page = _page(url, {"limit": max(history, 1)}, on_status, read_timeout)
    yield from page["entries"][-history:] if history > 0 else []
    # "0": the stream is empty, so everything that comes is new
    yield from follow_after(url, page["next_after"] or "0", on_status=on_status, read_timeout=read_timeout)


def replay(url: str, filters: Mapping[str, str], *, live: bool, on_status: Callable[[str], None] = lambda _: None,
           read_timeout: float = READ_TIMEOUT_S) -> Iterator[Entry]:
    """Yield every stored entry that passes `filters` (`/entries` query parameters), oldest first.

    Then, if `live`, each new entry, forever, from right after the last entry the pages looked at:
    the stored pages and the live events meet with no gap and no repeat.
    """
    page: dict[str, Any] = {"next_after": "0", "reached_end": False}
    while not page["reached_end"]:
        page = _page(url, {**filters, "after": page["next_after"], "limit": REPLAY_PAGE}, on_status, read_timeout)
        yield from page["entries"]
    if live:
        yield from follow_after(url, page["next_after"], on_status=on_status, read_timeout=read_timeout)


def follow_after(url: str, last_id: str, *, on_status: Callable[[str], None] = lambda _: None,
                 read_timeout: float = READ_TIMEOUT_S) -> Iterator[Entry]:
    """Yield each entry after `last_id` as it arrives, forever, reconnecting after any break."""
    failures = 0
    was_connected = False

    def opened() -> None:
        nonlocal failures, was_connected
        on_status("reconnected" if was_connected else f"following {url}")
        failures, was_connected = 0, True

    while True:
        try:
            for entry in _events(url, last_id, read_timeout, opened):
                last_id = entry["id"]
                yield entry
            reason = "the server closed the stream"
        except (OSError, ValueError, http.client.HTTPException) as error:
            reason = _reason(error)
        failures += 1
        if failures == 1:
            on_status(f"connection lost ({reason}); reconnecting")
        time.sleep(backoff(failures, RECONNECT_FIRST_S, RECONNECT_MAX_S))


def _page(url: str, params: Mapping[str, str | int], on_status: Callable[[str], None],
          read_timeout: float) -> dict[str, Any]:
    """One page of `/entries`, asked again (with backoff) until the server answers."""
    failures = 0
    timeout = min(read_timeout, PAGE_TIMEOUT_S)
    while True:
        try:
            return cast(dict[str, Any], _get_json(f"{url}/entries?{urllib.parse.urlencode(params)}", timeout))
        except (OSError, ValueError, http.client.HTTPException) as error:
            failures += 1
            if failures == 1:
                said = (f"{url} answered {_reason(error)}" if isinstance(error, urllib.error.HTTPError)
                        else f"cannot reach {url} ({_reason(error)})")
                on_status(f"{said}; retrying")
            time.sleep(backoff(failures, RECONNECT_FIRST_S, RECONNECT_MAX_S))


def _events(url: str, after: str, read_timeout: float, opened: Callable[[], None]) -> Iterator[Entry]:
    """Entries from one SSE connection that resumes after `after`; returns when the server ends it."""
    request = urllib.request.Request(url, headers={
        "Accept": "text/event-stream", "Last-Event-ID": after, "User-Agent": USER_AGENT})
    with _open(request, read_timeout) as response:
        opened()
        data: list[str] = []
        for raw_line in response:
            line = raw_line.decode(errors="replace").rstrip("\r\n")
            if line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif not line and data:
                yield json.loads("\n".join(data))
                data = []


def _get_json(url: str, read_timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
    with _open(request, read_timeout) as response:
        return json.loads(response.read())


def _open(request: urllib.request.Request, read_timeout: float) -> Any:
    try:
        return urllib.request.urlopen(request, timeout=read_timeout)
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500 and error.code != 429:
            raise StreamGone(f"{request.full_url} answered {error.code}: {_body_detail(error)}") from None
        raise


def _body_detail(error: urllib.error.HTTPError) -> str:
    try:
        return error_detail(error.read())
    except (OSError, http.client.HTTPException):  # cut short
        return error.reason or "no detail"


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):  # a busy server (503, 429) says why, and it is worth showing
        return f"{error.code}: {' '.join(_body_detail(error).split())}"  # an HTML error page: on one line
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__
