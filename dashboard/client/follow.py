"""Follow a stream over HTTP (standard library only): history, then live entries, resuming after any break."""

from __future__ import annotations

import http.client
import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from ..protocol import RESUMED_FROM_START_NOTICE, entry_id_order, is_entry_id
from .sender import USER_AGENT, backoff, error_detail

# The server comments every 15 s; a connection silent for this long is dead.
READ_TIMEOUT_S = 45.0
# A page of `/entries` is a bounded scan (half a second, and a short wait for a place; a server whose
# Redis does not answer says so with a 503 within 10 s): a server that has not answered one in this long
# is not answering, and the user is told so before it is asked again.
PAGE_TIMEOUT_S = 15.0
RECONNECT_FIRST_S = 0.25
RECONNECT_MAX_S = 5.0
# A connection that stayed open this long was working, even without entries (a quiet stream that a proxy
# closes now and then): the next break is said and retried as a first one.
HEALTHY_CONNECTION_S = 10.0
_DIGITS = re.compile(r"\d+")
REPLAY_PAGE = 1000
# Bounds on what tail holds of one answer, far past what a BunnyLogs server sends (a page's entries are
# about 1 MiB, an entry under 1 MiB, JSON's escapes at most 6 bytes a character): a broken or foreign
# server's endless event or page is not read whole.
MAX_EVENT_BYTES = 16 * 1024 * 1024
MAX_PAGE_ANSWER_BYTES = 16 * 1024 * 1024
MAX_ERROR_BYTES = 64 * 1024  # of an error answer, for what it says

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
        after = page["next_after"]
        page = _page(url, {**filters, "after": after, "limit": REPLAY_PAGE}, on_status, read_timeout)
        yield from page["entries"]
        if page["next_after"] in (None, after):  # no further: a server that never says it reached the end
            page["next_after"] = after
            break
    if live:
        yield from follow_after(url, page["next_after"], on_status=on_status, read_timeout=read_timeout)


def follow_after(url: str, last_id: str, *, on_status: Callable[[str], None] = lambda _: None,
                 read_timeout: float = READ_TIMEOUT_S) -> Iterator[Entry]:
    """Yield each entry after `last_id` as it arrives, forever, reconnecting after any break.

    Each new break is said once, and the same one again, without the stream working in between, once
    more ("… again"); then nothing until the stream works again (an entry comes, or a connection holds
    for HEALTHY_CONNECTION_S), which is said ("reconnected"). The waits between tries grow until it
    works: tail floods neither the terminal nor the server (one that sends what is not an entry made it
    try four times a second for ever). An entry at or before the last one yielded is not yielded again,
    unless the server said that the stream lost its entries since (RESUMED_FROM_START_NOTICE).
    """
    failures = 0
    started = False  # a first connection opened
    opened_at: float | None = None  # when this try's connection opened
    said: set[str] = set()  # the kinds of break said since the stream last worked
    owed: str | None = None  # when "reconnected" is to be said: at the next "open", at the next "entry"

    def opened() -> None:
        nonlocal started, opened_at, owed
        if not started:  # after breaks before it too: that says it works
            on_status(f"following {url}")
            started = True
            owed = None
        elif owed == "open":
            on_status("reconnected")
            owed = None
        opened_at = time.monotonic()

    started_over_at: str | None = None  # the last resume point the server said the stream started over after

    def told(notice: str) -> None:  # the server's word on the stream: its bus away or back, lines gone
        nonlocal last_id, started_over_at
        on_status(f"the server says: {notice}")
        # What follows has lower IDs than the last printed, and is new. Once per resume point: a server that
        # said so on every connection and sent the same entry again would have it printed for ever.
        if notice == RESUMED_FROM_START_NOTICE and last_id != started_over_at:
            started_over_at = last_id
            last_id = _BELOW_EVERY_ID

    def alive() -> None:  # a quiet stream that works again is told of too, once it held a while
        nonlocal owed
        if owed == "entry" and opened_at is not None and time.monotonic() - opened_at >= HEALTHY_CONNECTION_S:
            on_status("reconnected")
            owed = None

    while True:
        worked = False  # an entry came, or the connection held: the wait starts afresh
        opened_at = None
        try:
            for entry in _events(url, last_id, read_timeout, opened, alive, told):
                if entry_id_order(entry["id"]) <= entry_id_order(last_id):
                    continue  # a server that did not resume where it was asked to sends what was printed
                last_id = entry["id"]
                worked = True
                if owed == "entry":
                    on_status("reconnected")
                    owed = None
                yield entry
            news = "connection lost (the server closed the stream)"
        except (OSError, ValueError, OverflowError, http.client.HTTPException) as error:
            if isinstance(error, urllib.error.HTTPError):
                news = f"{url} answered {_reason(error)}"
            elif opened_at is None and isinstance(error, ValueError):  # it answered, with what is not a stream
                news = f"{url}: {_reason(error)}"
            elif opened_at is None:
                news = f"cannot reach {url} ({_reason(error)})"
            else:
                news = f"connection lost ({_reason(error)})"
            _let_go(error)
        if worked or (opened_at is not None and time.monotonic() - opened_at >= HEALTHY_CONNECTION_S):
            failures = 0
            said.clear()
        failures += 1
        # A break is the same as one said if only its numbers differ (a proxy's error page with a request
        # ID, a count): each would be said for ever, one line a try.
        kind = _DIGITS.sub("#", news)
        if kind not in said:
            said.add(kind)
            on_status(f"{news}; reconnecting")
            owed = "open"
        elif owed != "entry":
            on_status(f"{news} again, {failures} tries in a row; trying less often until it works")
            owed = "entry"
        time.sleep(backoff(failures, RECONNECT_FIRST_S, RECONNECT_MAX_S))


def _page(url: str, params: Mapping[str, str | int], on_status: Callable[[str], None],
          read_timeout: float) -> dict[str, Any]:
    """One page of `/entries`, asked again (with backoff) until the server answers."""
    failures = 0
    timeout = min(read_timeout, PAGE_TIMEOUT_S)
    while True:
        try:
            return _get_page(f"{url}/entries?{urllib.parse.urlencode(params)}", timeout)
        except (OSError, ValueError, OverflowError, http.client.HTTPException) as error:
            failures += 1
            if failures == 1:
                if isinstance(error, urllib.error.HTTPError):
                    said = f"{url} answered {_reason(error)}"
                elif isinstance(error, OSError):
                    said = f"cannot reach {url} ({_reason(error)})"
                else:  # it answered, with what is not a page
                    said = f"{url}: {_reason(error)}"
                on_status(f"{said}; retrying")
            _let_go(error)
            time.sleep(backoff(failures, RECONNECT_FIRST_S, RECONNECT_MAX_S))


def _events(url: str, after: str, read_timeout: float, opened: Callable[[], None],
            alive: Callable[[], None] = lambda: None, told: Callable[[str], None] = lambda _: None) -> Iterator[Entry]:
    """Entries from one SSE connection that resumes after `after`; returns when the server ends it.

    `opened()` is called once the server answered with a stream, `alive()` at each line it sends
    (its comments too, which a quiet stream gets every 15 s), `told(text)` with each comment that is news
    (the log bus away or back, lines gone): not the keep-alives, nor one that the stream ends after (the
    break is said)."""
    request = urllib.request.Request(url, headers={
        "Accept": "text/event-stream", "Last-Event-ID": after, "User-Agent": USER_AGENT})
    with _open(request, read_timeout) as response:
        _check_coding(response)
        if response.headers.get_content_type() != "text/event-stream":
            raise ValueError("the server did not answer with an event stream "
                             f"(Content-Type: {response.headers.get('Content-Type', 'none')})")
        opened()
        data: list[str] = []
        held = 0  # bytes of the event's data lines so far
        notices: list[str] = []  # the comments told on this connection
        while raw_line := response.readline(MAX_EVENT_BYTES):
            alive()
            if len(raw_line) == MAX_EVENT_BYTES and not raw_line.endswith(b"\n"):
                raise ValueError(f"the server sent a line longer than {MAX_EVENT_BYTES:,} bytes: not an event")
            line = raw_line.decode(errors="replace").rstrip("\r\n")
            if line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
                held += len(raw_line)
                if held > MAX_EVENT_BYTES:
                    raise ValueError(f"the server sent an event longer than {MAX_EVENT_BYTES:,} bytes")
            elif not line and data:
                yield _entry(_json("\n".join(data)))
                data, held = [], 0
            elif line.startswith(":"):
                comment = line[1:].strip()
                if comment in _ROUTINE_COMMENTS or comment.endswith(_ENDING_COMMENT) or comment in notices[-1:]:
                    continue
                # A server that comments on every line (a ticker, a foreign one) is told of a few times, not for ever.
                if len(notices) < MAX_NOTICES:
                    told(comment[:MAX_NOTICE_CHARS])
                elif len(notices) == MAX_NOTICES:
                    told("… (its further comments on this connection are not shown)")
                notices.append(comment)


_BELOW_EVERY_ID = "0-0"

# Comments of every stream, which say nothing new; and the end of those the server ends a stream after.
_ROUTINE_COMMENTS = frozenset({"", "connected", "keep-alive", "keepalive", "ping", "heartbeat"})
_ENDING_COMMENT = "reconnect with Last-Event-ID to resume"
MAX_NOTICE_CHARS = 300
MAX_NOTICES = 10  # comments told per connection


def _get_page(url: str, read_timeout: float) -> dict[str, Any]:
    """One page of `/entries`, or ValueError if the answer is not one (a broken or foreign server)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
    with _open(request, read_timeout) as response:
        _check_coding(response)
        body = response.read(MAX_PAGE_ANSWER_BYTES + 1)
    if len(body) > MAX_PAGE_ANSWER_BYTES:
        raise ValueError(f"the server's answer is longer than {MAX_PAGE_ANSWER_BYTES:,} bytes: not a page of entries")
    page = _json(body)
    if not (isinstance(page, dict) and isinstance(page.get("entries"), list) and "next_after" in page
            and (page["next_after"] is None or is_entry_id(page["next_after"]))
            and isinstance(page.get("reached_end"), bool)):
        raise ValueError("the server did not answer with a page of entries")
    for entry in page["entries"]:
        _entry(entry)
    return page


def _check_coding(response: Any) -> None:
    """ValueError if `response` came in a content coding (gzip, say): tail asks for none, and reads none."""
    coding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if coding not in ("identity", ""):
        raise ValueError(f"the server's answer is encoded ({coding}), which tail did not ask for")


def _json(text: str | bytes) -> Any:
    """`text` parsed as JSON; ValueError for what is not (nested past Python's depth too)."""
    try:
        return json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise ValueError("the server sent JSON nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError):  # their words ("Expecting value: line 1…") say less
        raise ValueError("the server sent what is not JSON") from None


def _not_json(constant: str) -> Any:
    raise ValueError(f"the server sent {constant}, which is not JSON")


def _entry(value: Any) -> Entry:
    """`value`, if it is a log entry as BunnyLogs sends one; else ValueError (a broken or foreign server)."""
    if not (isinstance(value, dict) and isinstance(value.get("id"), str) and is_entry_id(value["id"])
            and all(isinstance(value.get(key), str) for key in ("level", "program", "message"))
            and isinstance(value.get("ts"), int | float) and not isinstance(value["ts"], bool)
            and math.isfinite(value["ts"]) and isinstance(value.get("fields", {}), dict)):
        raise ValueError("the server sent something that is not a log entry")
    return cast(Entry, value)


class _WebRedirectsOnly(urllib.request.HTTPRedirectHandler):
    """Follows a redirect to http or https only: urllib's own follows one to ftp too, and takes one to
    another scheme (file:, data:) for a failure to retry for ever."""

    def http_error_302(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                       headers: Any) -> Any:
        location = headers.get("Location") or headers.get("URI")
        if location is not None:
            target = urllib.parse.urljoin(req.full_url, location.strip())
            try:
                parts = urllib.parse.urlsplit(target)
                why = "it is not an http or https address" if parts.scheme.lower() not in ("http", "https") \
                    else "it holds a user name or password" if "@" in parts.netloc else None
            except ValueError:  # an IPv6 host without its "]", say
                why = "it is not a valid address"
            if why is not None:
                fp.close()
                raise StreamGone(f"{req.full_url} answered {code}, a redirect to {_shown(target)}: "
                                 f"not followed, as {why}")
            try:
                return super().http_error_302(req, fp, code, msg, headers)
            except urllib.error.HTTPError:
                raise
            except urllib.error.URLError as error:  # else said under the address tail was given
                raise urllib.error.URLError(f"redirected to {_shown(target)}: {error.reason}") from None
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


_OPENER = urllib.request.build_opener(_WebRedirectsOnly)


def _shown(url: str) -> str:
    """`url` with a user name or password left out ("…@"): tail never shows one."""
    scheme, _, rest = url.partition("://")
    host_part, slash, path = rest.partition("/")
    if not _ or "@" not in host_part:
        return url
    return f"{scheme}://…@{host_part.rpartition('@')[2]}{slash}{path}"


def _open(request: urllib.request.Request, read_timeout: float) -> Any:
    try:
        return _OPENER.open(request, timeout=read_timeout)
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500 and error.code != 429:
            raise StreamGone(f"{request.full_url} answered {error.code}: {_body_detail(error)}") from None
        raise


def _body_detail(error: urllib.error.HTTPError) -> str:
    try:
        return error_detail(error.read(MAX_ERROR_BYTES), error.code)
    except (OSError, http.client.HTTPException):  # cut short
        return error.reason or "no detail"
    finally:
        _let_go(error)


def _let_go(error: Exception) -> None:
    """Close the connection of an error answer not read to its end (its server would wait to send the rest)."""
    if isinstance(error, urllib.error.HTTPError):
        error.close()


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError) and 300 <= error.code < 400:  # urllib's words: a redirect loop
        return f"{error.code}: {' '.join(str(error.reason).split())}"
    if isinstance(error, urllib.error.HTTPError):  # a busy server (503, 429) says why, and it is worth showing
        return f"{error.code}: {' '.join(_body_detail(error).split())}"  # an HTML error page: on one line
    if isinstance(error, urllib.error.URLError):
        return " ".join(str(error.reason).split())
    return " ".join(str(error).split()) or type(error).__name__  # a bad status line, say, with its line end
