"""The application factory: the outer FastAPI app with ingest, health and (mounted) NiceGUI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Response

from .ingest import build_ingest_router, error_response
from .settings import Settings
from .stream import create_bus

# uvicorn's own logger, so that our lines appear beside its start-up lines.
log = logging.getLogger("uvicorn.error")


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
    if settings.serves_ingest:
        app.include_router(build_ingest_router(bus))
    else:
        @app.api_route("/live/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                       include_in_schema=False)
        async def not_an_ingest_process(rest: str) -> Response:
            return error_response(404, "this BunnyLogs process serves only pages; send logs to an ingest process")

    @app.get("/healthz", summary="Liveness, configuration and how many viewers this process serves")
    async def health() -> dict[str, str | int]:
        return {"status": "ok", "role": settings.role, "bus": bus.name, "viewers": bus.viewer_total()}

    if settings.serves_ui:
        from .pages import mount_ui  # NiceGUI is imported only by processes that serve pages

        mount_ui(app, settings, bus)
    return app


def run_server(settings: Settings) -> None:
    """Serve until interrupted."""
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level, access_log=False)
