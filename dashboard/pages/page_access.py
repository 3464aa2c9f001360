"""What every stream page shares before it shows a stream: its private head, the not-found page, the viewer count."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from html import escape
from typing import TypeVar

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from nicegui import Client, ui

from ..client_identity import client_address
from ..follower_limits import FollowerLimits
from ..protocol import bus_stream_id
from ..rate_limit import Refusal
from ..settings import Settings
from .page_heap import page_heap

# The stream's address is its only key: keep it out of search engines and Referer headers.
PRIVATE_PAGE_HEAD = '<meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">'
AnyResponse = TypeVar("AnyResponse", bound=Response)


def constant_page(title: str, text_html: str, classes: str = "") -> str:
    """A page that says why an address shows no stream; constant: nothing from the address is echoed into it."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} · BunnyLogs</title><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#0f172a}}
a{{color:#2563eb}}</style></head><body><main class="{classes}"><h1>{title}</h1>
<p>{text_html}</p></main></body></html>"""


NO_SUCH_STREAM_PAGE = constant_page("No such stream", """A stream's address ends in a UUID, like \
<code>/3f8a7c2e-1b4d-4e6f-9a0b-1c2d3e4f5a6b</code>.
Check the link you were given, or <a href="/">open a new stream</a>.""")


def answer_instead(response: AnyResponse) -> AnyResponse:
    """`response` in place of the page (not found, a redirect, a refusal): the NiceGUI client made for the page
    goes now.

    NiceGUI keeps a client whose socket never connects for a minute or more, and it makes one for every
    page request before the page reads its address: each bad address held some 50 KB for that minute
    (350 KB with a 60 KB address), so a stream of them could fill the server's memory.
    """
    client = ui.context.client
    page_heap.answered_instead(client)
    client.delete()
    response.headers["Cache-Control"] = "no-store"  # as every page: a refusal or a 404 may not be so later
    return response


def count_viewer(followers: FollowerLimits, settings: Settings, keys: list[str],
                 request: Request) -> HTMLResponse | None:
    """Count this page as one viewer of each of its streams until it closes (None); or, over a limit, the page to
    answer instead, which says so and says which.

    A merged view is one viewer of each stream it shows, and as many of its client's as it shows streams.
    A refusal is a constant page, not a NiceGUI one: a client refused over and over must not pile up pages
    in the server's memory waiting for sockets that never come.
    """
    never_fits = followers.too_many_for_a_client(len(keys))
    if never_fits is not None:
        return _view_too_big_page(len(keys), followers.per_client, never_fits)
    client = client_address(request.scope, trust_forwarded_for=settings.trust_x_forwarded_for)
    refused = _open_each(followers, [bus_stream_id(key) for key in keys], client)  # either key: one stream
    if refused is None:
        return None
    heading = ("This stream has too many viewers right now" if refused.setting == "--viewers-per-stream"
               else "Too many BunnyLogs pages and event streams are open from your address")
    text = (f"The server allows {escape(refused.allowed)} ({escape(refused.limit)}, set by "
            f"<code>{escape(refused.setting)}</code>). Close another page (its place is free about "
            f"{settings.page_reconnect_seconds:g} s after it closes), then "
            '<a href="">reload this one</a>.')  # an empty href: this address, without echoing it
    return HTMLResponse(constant_page(heading, text, "bl-limited"), status_code=429,
                        headers={"Retry-After": str(refused.retry_after)})


async def socket_connected(client: Client, settings: Settings) -> bool:
    """Wait for the page's socket; a page whose socket has not connected within `--page-connect-seconds` (a
    crawler, curl, a prefetch never used) is deleted, which frees its viewer places. False when the page is gone.

    NiceGUI alone would keep such a page a minute or more (it prunes clients that never connected after 60 s).
    """
    try:
        await asyncio.wait_for(client.connected(), settings.page_connect_seconds)
    except TimeoutError:
        client.delete()
    return not client.is_deleted


def _view_too_big_page(streams: int, allowed: int, refusal: Refusal) -> HTMLResponse:
    """Say that a merged view of `streams` streams can never open here: closing other pages would not help."""
    text = (f"This view follows {streams} streams, and this server lets one client follow at most {allowed} at "
            f"once (set by <code>{escape(refusal.setting)}</code>, in each server process). Open fewer at once: "
            'take some keys out of its address, or <a href="/">go to the start</a>.')
    return HTMLResponse(constant_page("This view follows more streams than this server lets one client follow",
                                      text, "bl-limited bl-view-too-big"), status_code=400)


def _open_each(followers: FollowerLimits, stream_ids: list[str], client: str) -> Refusal | None:
    """Count the page as a follower of each stream until it closes; on a refusal, of none (and the refusal)."""
    uncounters: list[Callable[[], None]] = []
    for stream_id in stream_ids:
        counted = followers.open(stream_id, client)
        if not callable(counted):
            for uncount in uncounters:
                uncount()
            return counted
        uncounters.append(counted)
    for uncount in uncounters:
        ui.context.client.on_delete(uncount)
    return None
