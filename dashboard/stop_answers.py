"""What a request still under way when the server stops gets: a JSON 503, not uvicorn's plain-text 500.

uvicorn lets requests finish for a grace period when it is told to stop, then cancels them (its
`timeout_graceful_shutdown`): one that waits on a Redis that stopped answering is one of them.
"""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .http_errors import RETRY_AFTER_SECONDS, error_response

STOPPED = "the server stopped before this request was done; retry shortly"
STOPPED_INGEST = ("the server stopped before these entries were known to be stored; retry shortly, under the same "
                  "Idempotency-Key if the request had one (they are then stored once)")


STOPPING_INGEST = ("the server is stopping, and its in-process bus would lose these entries with it: none were "
                   "stored; retry shortly")


def stopped_response(detail: str) -> Response:
    """A 503 that says the server stopped (the client may retry at once, elsewhere or here)."""
    return error_response(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"})


async def answer_stopped(detail: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Send `stopped_response(detail)`."""
    await stopped_response(detail)(scope, receive, send)


def answering_when_stopped(app: ASGIApp) -> ASGIApp:
    """`app`, where an HTTP request it had not begun to answer when it was cancelled gets a 503.

    The cancellation is uvicorn ending the request at shutdown, so the answer is all that is left to do:
    the request ends with it (a re-raised cancellation would have uvicorn log it as a failure).
    """

    async def answering(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # a page's socket, or the lifespan
            await app(scope, receive, send)
            return
        started = False

        async def noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, noting_start)
        except asyncio.CancelledError:
            if started:
                raise
            await answer_stopped(STOPPED, scope, receive, send)

    return answering
