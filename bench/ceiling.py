"""The ceiling: a bare Starlette no-op POST endpoint, served like BunnyLogs (uvicorn, uvloop, httptools).

Every ingest figure is divided by this one: it is what the server, the HTTP parser and the load
generator cost on this machine before BunnyLogs does any work.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def accept_nothing(request: Request) -> Response:
    """Read the body, as ingest must, and answer 204."""
    await request.body()
    return Response(status_code=204)


app = Starlette(routes=[Route("/live/{stream_id}", accept_nothing, methods=["POST"])])
