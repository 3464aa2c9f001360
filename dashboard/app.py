"""The application factory: the outer FastAPI app with ingest, health and (mounted) NiceGUI."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

import uvicorn
from fastapi import FastAPI, Response
from starlette.types import ASGIApp

from .ingest import Ingest, build_ingest_router, error_response
from .ingest_lane import IngestFastLane
from .readback import OpenEventStreams, build_readback_router
from .settings import Settings
from .stream import create_bus

# uvicorn's own logger, so that our lines appear beside its start-up lines.
log = logging.getLogger("uvicorn.error")
SHUTDOWN_GRACE_SECONDS = 3


def create_app(settings: Settings) -> FastAPI:
    """Build the app for `settings`; NiceGUI can be mounted once per process, so call this once."""
    bus = create_bus(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await bus.start()
        log.info("BunnyLogs ready: role %s, %s bus", settings.role, bus.name)
        try:
            yield
        finally:
            await bus.close()

    app = FastAPI(title="BunnyLogs", lifespan=lifespan, docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json")
    # Every role can read streams back; only ingest processes take new entries.
    app.state.ingest = ingest = Ingest(bus)
    app.state.open_event_streams = open_streams = OpenEventStreams()
    app.include_router(build_readback_router(bus, open_streams, default_history=settings.history,
                                             keepalive_seconds=settings.sse_keepalive_seconds))
    if settings.serves_ingest:
        app.include_router(build_ingest_router(ingest))
    else:
        @app.api_route("/live/{rest:path}", methods=["POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                       include_in_schema=False)
        async def not_an_ingest_process(rest: str) -> Response:
            return error_response(404, "this BunnyLogs process serves only pages; send logs to an ingest process")

    @app.get("/healthz", summary="Liveness, configuration, viewers served and entries taken by this process")
    async def health() -> dict[str, str | int]:
        return {"status": "ok", "role": settings.role, "bus": bus.name, "viewers": bus.viewer_total(),
                "entries_accepted": ingest.entries_accepted, "requests_refused": ingest.requests_refused}

    if settings.serves_ui:
        from .pages import mount_ui  # NiceGUI is imported only by processes that serve pages

        mount_ui(app, settings, bus)
    return app


def create_server_app(settings: Settings) -> tuple[ASGIApp, FastAPI]:
    """The ASGI app a server runs, with ingest's fast lane in front when it takes logs, and the FastAPI app."""
    app = create_app(settings)
    if settings.serves_ingest:
        return IngestFastLane(app, app.state.ingest), app
    return app, app


def run_server(settings: Settings) -> None:
    """Serve until interrupted."""
    served, app = create_server_app(settings)
    config = uvicorn.Config(served, host=settings.host, port=settings.port, log_level=settings.log_level,
                            access_log=False, timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS)
    _Server(config, app.state.open_event_streams).run()


class _Server(uvicorn.Server):
    """uvicorn's server, which also ends open event streams when asked to stop.

    uvicorn waits for every response to finish before it shuts down, and an event stream never
    finishes by itself.
    """

    def __init__(self, config: uvicorn.Config, open_streams: OpenEventStreams) -> None:
        super().__init__(config)
        self._open_streams = open_streams
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._loop is not None:  # a signal handler: hand the work to the loop
            self._loop.call_soon_threadsafe(self._open_streams.end_all)
        super().handle_exit(sig, frame)
