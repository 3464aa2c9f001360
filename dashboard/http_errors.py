"""The answers `/live` gives when it cannot do what was asked: JSON, `{"detail": "..."}`, with CORS."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from .security_headers import DATA_ANSWER_HEADERS

# Browser apps may send and read logs from any origin: the UUID in the path is the only
# credential, and no cookies are involved.
CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}
NOT_A_STREAM = "no such stream: the path must be /live/<uuid>, e.g. /live/0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"
BUS_UNAVAILABLE = "the log bus is unavailable; retry shortly"
READ_ONLY = ("this is a read-only key: it can follow the stream but not send to it; "
             "send log entries to the stream's write URL (/live/<write key>), not its read-only link")
BUS_FULL = ("the log bus (Redis) is out of memory: it is at its maxmemory and may not evict; nothing was stored. "
            "Retry later; the operator must raise maxmemory or lower --max-stream-length")
RETRY_AFTER_SECONDS = 1


# Made outside the security headers' middleware (the fast lane answers too): they carry them themselves.
_ERROR_HEADERS = {**CORS_HEADERS, **DATA_ANSWER_HEADERS}


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error every client gets, readable by browser apps too (the detail may quote the request)."""
    return JSONResponse({"detail": detail}, status_code=status_code, headers={**_ERROR_HEADERS, **(headers or {})})


def not_a_stream_response() -> JSONResponse:
    """404 for a `/live/...` path that names no stream."""
    return error_response(404, NOT_A_STREAM)


def read_only_response() -> JSONResponse:
    """403 for a POST with a view key, which may read a stream but not write to it."""
    return error_response(403, READ_ONLY)


def bus_unavailable_response(*, full: bool = False) -> JSONResponse:
    """503 with `Retry-After`, for when the bus (Redis) cannot be reached or is full; nothing was stored."""
    return error_response(503, BUS_FULL if full else BUS_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
