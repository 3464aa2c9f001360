"""A 204 written straight to the connection, for the answer a server gives most: an accepted POST.

uvicorn's ASGI `send` checks every header of every answer with two regular expressions and joins
the answer anew. An accepted POST carries eleven headers (uvicorn's `date` and `server`, CORS and
the security headers), and that work was a fifth of what a single-entry POST costs the server. The
answer's bytes are the same for every request but for the `date`, which uvicorn renews once a
second: here they are joined once per date and written as they are.

`BoundedHttpProtocol` puts its writer in each POST's scope (`scope["extensions"][NO_CONTENT_EXTENSION]
["write"]`); whoever answers 204 may call it with the scope, and send the ordinary way when it says no. The writer is
the connection's, not the request's: a writer that held the request's cycle, which holds the scope,
would make each request a reference cycle left for the garbage collector (measured: a 200 ms
collection every 8 s under single-entry load).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

NO_CONTENT_EXTENSION = "bunnylogs.no_content"
# Takes the request's scope and the answer's own header lines (`encode_header_lines`); False: send
# the answer through ASGI instead.
NoContentWriter = Callable[[Scope, bytes], bool]

_STATUS_LINE = b"HTTP/1.1 204 No Content\r\n"
_CLOSE = b"connection: close\r\n"
# What uvicorn's `send` refuses in a header name or value.
_BAD_NAME = re.compile(r'[\x00-\x1f\x7f()<>@,;:\[\]={} \t\\"]')
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Header lines → (the default headers they were joined with, the whole answer).
_joined: dict[bytes, tuple[list[tuple[bytes, bytes]], bytes]] = {}


def encode_header_lines(headers: Mapping[str, str]) -> bytes:
    """`headers` as the lines of an answer's head, lower-case names; ValueError for what HTTP forbids."""
    for name, value in headers.items():
        if not name or _BAD_NAME.search(name) or _BAD_VALUE.search(value) or not (name + value).isascii():
            raise ValueError(f"not a valid HTTP header: {name!r}: {value!r}")
    return b"".join(f"{name.lower()}: {value}\r\n".encode("ascii") for name, value in headers.items())


def write_no_content(cycle: RequestResponseCycle, header_lines: bytes) -> bool:
    """Answer `cycle`'s request 204 with `header_lines` as uvicorn's `send` would; False if it must do it.

    uvicorn keeps the cases this does not: an answer already begun, a client gone, a connection
    whose writes are paused (its `send` waits for the client to read), an access log to write.
    """
    if cycle.response_started or cycle.disconnected or cycle.flow.write_paused or cycle.access_log:
        return False
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    if cycle.keep_alive:
        cycle.transport.write(_answer(cycle.default_headers, header_lines))
    else:
        cycle.transport.write(_join(cycle.default_headers, header_lines + _CLOSE))
    cycle.response_complete = True
    cycle.message_event.set()  # a `receive` still waiting learns that the request is over
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
    return True


def _answer(default_headers: list[tuple[bytes, bytes]], header_lines: bytes) -> bytes:
    joined = _joined.get(header_lines)
    if joined is not None and joined[0] is default_headers:  # uvicorn makes a new list for each new date
        return joined[1]
    answer = _join(default_headers, header_lines)
    _joined[header_lines] = (default_headers, answer)
    return answer


def _join(default_headers: list[tuple[bytes, bytes]], header_lines: bytes) -> bytes:
    return b"".join([_STATUS_LINE, *(b"%s: %s\r\n" % (name.lower(), value) for name, value in default_headers),
                     header_lines, b"\r\n"])
