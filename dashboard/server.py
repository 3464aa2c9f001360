"""Running the app: uvicorn, and a shutdown that does not wait for event streams that never end."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from types import FrameType

import uvicorn

from .app import create_server_app, log
from .connections import ConnectionLimits, bounded_protocol, default_max_connections, raise_fd_limit
from .readback import OpenEventStreams
from .settings import Settings

# How long NiceGUI's page waits for a WebSocket before it polls (socket.io's default `timeout`).
SOCKET_IO_CONNECT_TIMEOUT_S = 20.0

SHUTDOWN_GRACE_SECONDS = 3


def run_server(settings: Settings, sockets: list[socket.socket] | None = None) -> None:
    """Serve until interrupted, on `sockets` when given (a worker of `workers`), else on the settings' port."""
    served, app = create_server_app(settings)
    limits = _connection_limits(settings)
    config = uvicorn.Config(served, host=settings.host, port=settings.port, log_level=settings.log_level,
                            access_log=False, timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
                            http=bounded_protocol(limits), ws=_websocket_protocol(settings),
                            # uvicorn would take X-Forwarded-For/-Proto from any local peer (a tunnel,
                            # a forwarder): only a proxy the operator vouches for may set the client.
                            proxy_headers=settings.trust_x_forwarded_for)
    log.info("At most %d connections open; timeouts: headers %g s, body %g s, idle %g s, send %g s",
             limits.max_connections, limits.header_seconds, limits.body_seconds, limits.idle_seconds,
             limits.send_seconds)
    if settings.role != "ingest":
        log.info("A page's socket may take %g s to connect, and %g s to reconnect before the page is let go",
                 settings.page_connect_seconds, settings.page_reconnect_seconds)
        if settings.page_connect_seconds <= SOCKET_IO_CONNECT_TIMEOUT_S:
            log.warning("--page-connect-seconds %g is within socket.io's %g s connect timeout: a browser whose "
                        "WebSocket is blocked (a proxy) falls back to polling only after its page was let go, "
                        "and reloads again and again", settings.page_connect_seconds, SOCKET_IO_CONNECT_TIMEOUT_S)
    _Server(config, app.state.readback.open_event_streams, app.state.ingest.stop_taking).run(sockets)


def _websocket_protocol(settings: Settings) -> str | type:
    """Pages' sockets on a protocol the row fan-out can write to directly; uvicorn's choice otherwise."""
    if not settings.serves_ui:
        return "auto"
    from .elements.socket_writer import DirectWebSocketProtocol  # NiceGUI only where pages are served
    return DirectWebSocketProtocol


def _connection_limits(settings: Settings) -> ConnectionLimits:
    """The settings' limits; the default cap follows the open-file limit, raised first to its hard limit."""
    return ConnectionLimits(header_seconds=settings.header_timeout_seconds, body_seconds=settings.body_timeout_seconds,
                            idle_seconds=settings.idle_timeout_seconds,
                            max_connections=settings.max_connections or default_max_connections(raise_fd_limit()),
                            # Behind a trusted proxy every connection comes from the proxy's address.
                            max_per_client=0 if settings.trust_x_forwarded_for else settings.max_connections_per_client,
                            send_seconds=settings.send_timeout_seconds)


class _Server(uvicorn.Server):
    """uvicorn's server, which also ends open event streams when asked to stop, after `stop_taking`.

    uvicorn waits for every response to finish before it shuts down, and an event stream never
    finishes by itself. `stop_taking` (the ingest's) comes first: entries of requests under way are
    then refused, not taken where no follower is left to see them.
    """

    def __init__(self, config: uvicorn.Config, open_streams: OpenEventStreams, stop_taking: Callable[[], None]) -> None:
        super().__init__(config)
        self._open_streams = open_streams
        self._stop_taking = stop_taking
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._loop is not None:  # a signal handler: hand the work to the loop, in this order
            self._loop.call_soon_threadsafe(self._stop_taking)
            self._loop.call_soon_threadsafe(self._open_streams.end_all)
        super().handle_exit(sig, frame)
