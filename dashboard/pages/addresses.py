"""The addresses a stream page shows: where to send, where to read, and whether sending there works."""

from __future__ import annotations

from starlette.requests import Request

from ..protocol import view_key
from ..settings import Settings

# A proxy in front adds this; a browser that reached the process directly does not send it.
_FORWARDED_HEADERS = ("x-forwarded-for", "forwarded")


def public_base(settings: Settings, request: Request) -> str:
    """The base URL users reach BunnyLogs at: `--public-url`, else the one the browser used.

    Behind a proxy on the same host, uvicorn already takes the scheme and client from its
    `X-Forwarded-*` headers, and the proxy passes the browser's `Host`.
    """
    return (settings.public_url or str(request.base_url)).rstrip("/")


def ingest_url(settings: Settings, request: Request, stream_id: str) -> str:
    """The URL to POST the stream's entries to."""
    return f"{public_base(settings, request)}/live/{stream_id}"


def view_url(settings: Settings, request: Request, stream_id: str) -> str:
    """The address of the stream's read-only page, for either of its keys."""
    return f"{public_base(settings, request)}/{view_key(stream_id)}"


def send_warning(settings: Settings, request: Request) -> str | None:
    """Why the ingest URL shown would not take logs, or None.

    A pages-only process (`--role ui`) refuses POSTs: when the browser reached it directly (no
    proxy in front to send `/live` to an ingest process) and no `--public-url` says where to send,
    the snippets would point at a process that refuses them.
    """
    if settings.serves_ingest or settings.public_url:
        return None
    if any(header in request.headers for header in _FORWARDED_HEADERS):
        return None
    return ("This process serves pages only (--role ui) and takes no logs, and nothing in front of it "
            "sends POSTs elsewhere: the URL below will refuse them. Start it with --public-url set to "
            "the address of your proxy or ingest process.")
