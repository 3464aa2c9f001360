"""The application factory: the outer FastAPI app with the `/live` routes, health and (mounted) NiceGUI."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from .bus import create_bus
from .follower_limits import FollowerLimits
from .http_errors import RETRY_AFTER_SECONDS, error_response
from .ingest import Ingest, IngestFastLane
from .ingest_limits import IngestLimits
from .live_routes import build_live_router
from .rate_limit import open_storage
from .readback import Readback
from .security_headers import SecurityHeaders
from .settings import Settings
from .stop_answers import answering_when_stopped

# uvicorn's own logger, so that our lines appear beside its start-up lines.
log = logging.getLogger("uvicorn.error")


def create_app(settings: Settings) -> FastAPI:
    """Build the app for `settings`; NiceGUI can be mounted once per process, so call this once."""
    bus = create_bus(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await bus.start()
        # Made here, in the running loop: limits' memory storage starts a task as it is made.
        ingest.limits = IngestLimits(settings, open_storage(settings.redis_url))
        log.info("BunnyLogs ready: role %s, %s bus", settings.role, bus.name)
        try:
            yield
        finally:
            await bus.close()

    app = FastAPI(title="BunnyLogs", lifespan=lifespan, docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.add_exception_handler(Exception, _internal_error)
    # Every role can read streams back; only ingest processes take new entries.
    followers = FollowerLimits(settings)
    app.state.ingest = ingest = Ingest(bus)  # its limits are made at start-up
    app.state.readback = readback = Readback(bus, default_history=settings.history,
                                             keepalive_seconds=settings.sse_keepalive_seconds,
                                             send_timeout_seconds=settings.send_timeout_seconds,
                                             followers=followers, trust_forwarded_for=settings.trust_x_forwarded_for)
    page_base = "" if settings.serves_ui else settings.public_url
    app.include_router(build_live_router(ingest=ingest if settings.serves_ingest else None, readback=readback,
                                         page_base=page_base))

    # HEAD too: uptime monitors ask with it.
    @app.api_route("/healthz", methods=["GET", "HEAD"],
                   summary="Liveness, configuration, viewers served and entries taken by this process")
    async def health() -> dict[str, str | int | dict[str, int]]:
        ingest_limited = ingest.limits.refusals.by_setting if ingest.limits else {}
        return {"status": "ok", "role": settings.role, "bus": bus.name, "pid": os.getpid(),
                "viewers": bus.viewer_total(),
                "entries_accepted": ingest.entries_accepted, "requests_refused": ingest.requests_refused,
                **bus.stats(),
                "limited": {**ingest_limited, **followers.refusals.by_setting},
                "names_folded": ingest.limits.names.folded if ingest.limits else 0,
                **_page_figures(settings)}

    @app.api_route("/readyz", methods=["GET", "HEAD"],
                   summary="Readiness: whether this process's bus answers (503 while Redis is away)",
                   response_model=None)
    async def ready() -> dict[str, str] | JSONResponse:
        """For a load balancer or an orchestrator: take the process out of rotation while this is 503.

        `/healthz` says whether the process is alive; this says whether it can do its work.
        """
        problem = await bus.ready()
        if problem is not None:
            return error_response(503, problem, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return {"status": "ready", "bus": bus.name}

    if settings.serves_ui:
        from .pages import mount_ui  # NiceGUI is imported only by processes that serve pages

        mount_ui(app, settings, bus, followers)
    return app


def _page_figures(settings: Settings) -> dict[str, int | dict[str, int]]:
    """How many page sessions this process holds (open, or served and waiting for their socket), how it sent
    row messages to pages (straight to their websockets, or through engine.io's queue), and how its pages'
    objects are collected."""
    if not settings.serves_ui:
        return {}
    from nicegui import Client

    from .elements.socket_writer import RowMessageCounts
    from .pages.page_heap import page_heap
    return {"pages": len(Client.instances), "row_messages": RowMessageCounts.as_dict(),
            "heap": page_heap.state.as_dict()}


async def _internal_error(_: Request, error: Exception) -> JSONResponse:
    """A bug, not bad input: the client still gets the JSON error every other answer has.

    Starlette logs the traceback itself after this answer is sent.
    """
    return error_response(500, "internal server error; see the server log")


def create_server_app(settings: Settings) -> tuple[ASGIApp, FastAPI]:
    """The ASGI app a server runs, with ingest's fast lane in front when it takes logs, and the FastAPI app."""
    app = create_app(settings)
    # The fast lane answers only POSTs to /live/<uuid>: 204 without a body, or a JSON error that
    # carries its own nosniff; everything else gets the security headers.
    served: ASGIApp = answering_when_stopped(SecurityHeaders(app))
    if settings.serves_ingest:
        served = IngestFastLane(served, app.state.ingest)
    return served, app
