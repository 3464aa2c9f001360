"""The hot path: `POST /live/<uuid>` answered before FastAPI's middleware stack and router.

The route is declared on the FastAPI router (and documented there); for a server, this thin ASGI
layer hands that one request shape straight to the same code. FastAPI's per-request layers
(error and telemetry middleware, body limit, route matching, dependency solving) cost more than
the ingest itself, which measured about 40% of the requests/s it could reach without them.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .ingest import Ingest, error_response, is_stream_id

log = logging.getLogger("uvicorn.error")
_PREFIX = "/live/"


class IngestFastLane:
    """An ASGI app that serves `POST /live/<uuid>` itself and passes everything else to `app`."""

    def __init__(self, app: ASGIApp, ingest: Ingest) -> None:
        self.app = app
        self._ingest_entries = ingest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            if path.startswith(_PREFIX) and is_stream_id(stream_id := path[len(_PREFIX):]):
                await self._ingest(stream_id, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _ingest(self, stream_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await self._ingest_entries.accept(stream_id, Request(scope, receive))
        except Exception:  # a bug, not bad input: answer rather than leave the client hanging
            log.exception("ingest failed for stream %s", stream_id)
            response = error_response(500, "internal server error; see the server log")
        await response(scope, receive, send)
