"""`/<uuid>`: the live view of one stream, with snippets that send to it (but not for a view key)."""

from __future__ import annotations

import asyncio
import functools

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from nicegui import Client, background_tasks, ui
from nicegui.elements.mixins.text_element import TextElement

from ..elements.copy_button import CopyButton
from ..elements.log_view import LogView
from ..follower_limits import FollowerLimits
from ..ingest_limits import client_address
from ..protocol import bus_stream_id, canonical_stream_id, is_view_key, view_key
from ..settings import Settings
from ..stream import Bus, BusUnavailable, Deliver, Subscription
from . import addresses, send_panel_state
from .frame import page_frame
from .held_rows import restore_held_rows
from .line_link import LineContext, link_target, read_context, show_link_notice
from .older_lines import OlderLines
from .restart_notice import RestartNotice, show_notice
from .snippets import curl_snippet, install_command, python_snippet, shell_snippet
from .view_filter import ViewFilter
from .viewer_controls import ViewerControls

_RETRY_DELAYS_S = (1.0, 2.0, 5.0)
# After a dropped socket, the page is sent at most this many of the entries it missed (and 1 MiB).
RESUME_ENTRIES = 1000
# The stream's address is its only key: keep it out of search engines and Referer headers.
_PRIVATE_PAGE_HEAD = '<meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">'


# A constant page: nothing from the address is echoed into it.
_NO_SUCH_STREAM_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>No such stream · BunnyLogs</title><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#0f172a}
a{color:#2563eb}</style></head><body><h1>No such stream</h1>
<p>A stream's address ends in a UUID, like <code>/3f8a7c2e-1b4d-4e6f-9a0b-1c2d3e4f5a6b</code>.
Check the link you were given, or <a href="/">open a new stream</a>.</p></body></html>"""


def register_stream_page(settings: Settings, bus: Bus, followers: FollowerLimits | None = None) -> None:
    """Add the `/{stream_id}` page, reading from `bus`, within `followers`' limits when given."""

    @ui.page("/{stream_id}", title="BunnyLogs")
    async def stream_page(stream_id: str, request: Request) -> HTMLResponse | RedirectResponse | None:
        canonical = canonical_stream_id(stream_id)
        if canonical is None:
            return HTMLResponse(_NO_SUCH_STREAM_PAGE, status_code=404)
        if canonical != stream_id:  # one stream, one address: the lower-case one
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/{canonical}{query}", status_code=308)
        read_only = is_view_key(stream_id)
        ui.page_title(f"BunnyLogs · {stream_id[:8]}" + (" · read-only" if read_only else ""))
        ui.add_head_html(_PRIVATE_PAGE_HEAD)
        if followers is not None and not _count_viewer(followers, settings, stream_id, request):
            return None
        params = {key: request.query_params.getlist(key) for key in request.query_params}
        view_filter = ViewFilter.from_query(params)
        context, link_notice = await _linked_line(bus, bus_stream_id(stream_id), params)
        panel_open = not read_only and await send_panel_state.opens_by_default(
            bus, bus_stream_id(stream_id), has_query=bool(request.query_params))
        with page_frame(stream_id):
            _access_row(addresses.view_url(settings, request, stream_id), read_only=read_only)
            send_panel = None
            if not read_only:
                send_panel = _send_panel(addresses.ingest_url(settings, request, stream_id),
                                         install_command(settings.client_install), open_=panel_open,
                                         warning=addresses.send_warning(settings, request))
                send_panel_state.remember_choice(send_panel)
            controls = ViewerControls(stream_id, view_filter)
            view = LogView(max_rows=settings.max_rows, view_filter=view_filter.to_component(),
                           highlights=view_filter.highlights_component(), utc=view_filter.utc,
                           stream_name=f"bunnylogs-{stream_id[:8]}", link_path=f"/{view_key(stream_id)}",
                           anchor=None if context is None else {"id": context.anchor, "next": context.next_id},
                           display=view_filter.display_component())
            view.classes("stream-log")
            controls.attach(view)
            # Listens to the view from the start: a listener added once the page is shown would redraw it.
            older = OlderLines(ui.context.client, bus, bus_stream_id(stream_id), view, max_rows=settings.max_rows,
                               max_kept=settings.max_stream_length, view_filter=lambda: controls.filter)
        client = ui.context.client
        await client.connected()
        if client.is_deleted:  # its socket never came (a crawler, curl): nothing to follow for
            return None
        # Nothing the browser answers late, or never, may keep the view from following: the
        # theme, the send panel's remembered state and the tab's last visit are asked for on the side.
        background_tasks.create(controls.restore_theme(), name=f"restore theme {client.id}")
        # The reader's remembered choice holds where the default is a guess: a stream with lines,
        # opened without filters. An empty stream always shows how to send; a filtered link is for reading.
        if send_panel is not None and not panel_open and not request.query_params:
            background_tasks.create(send_panel_state.restore_choice(send_panel), name=f"restore send panel {client.id}")
        notice = RestartNotice(stream_id, entries_survive=bus.keeps_entries_across_restarts,
                               history_lost=functools.partial(bus.history_lost, bus_stream_id(stream_id)))
        background_tasks.create(notice.check(client), name=f"restart notice {client.id}")
        if link_notice is not None:
            show_link_notice(client, link_notice)
        if context is not None:  # the lines around the linked one, paused: what follows them waits
            view.push_older(context.entries)
            controls.toggle_pause()
        await _follow(client, bus, bus_stream_id(stream_id), view, notice.watch(view.push), settings.history,
                      start_after=None if context is None else context.entries[-1].id)
        background_tasks.create(older.tell_kept(), name=f"kept count {client.id}")
        if context is None:  # (a linked page shows the lines around its line, not what the tab held)
            # Once it follows: a reloaded page gets back what it held, asked for on the side like the theme.
            background_tasks.create(restore_held_rows(client, bus, bus_stream_id(stream_id), view,
                                                      max_rows=settings.max_rows), name=f"restore rows {client.id}")
        return None


def _access_row(view_url: str, *, read_only: bool) -> None:
    """On a view key's page, that it is read-only; on the write key's, the read-only link to share."""
    with ui.row().classes("items-center gap-2 no-wrap w-full access-row"):
        if read_only:
            ui.badge("read-only", color="slate-600").classes("read-only-badge")
            ui.label("This link shows the stream; it cannot send logs to it.").classes("text-sm")
            CopyButton(view_url, label="Copy link", title="Copy this read-only link")
        else:
            ui.icon("visibility").classes("text-slate-500")
            ui.label(f"Read-only link: {view_url}").classes("font-mono text-sm truncate read-only-url")
            CopyButton(view_url, label="Copy read-only link",
                       title="Copy a link that shows this stream but cannot send logs to it")


def _count_viewer(followers: FollowerLimits, settings: Settings, stream_id: str, request: Request) -> bool:
    """Count this page as one of the stream's viewers until it closes; or, over a limit, say so and say which."""
    client = client_address(request.scope, trust_forwarded_for=settings.trust_x_forwarded_for)
    counted = followers.open(bus_stream_id(stream_id), client)  # either key: one stream
    if callable(counted):
        ui.context.client.on_delete(counted)
        return True
    with page_frame(stream_id), ui.card().classes("bl-limited"):
        ui.label("This stream has too many viewers right now" if counted.setting == "--viewers-per-stream"
                 else "Too many BunnyLogs pages and event streams are open from your address").classes("text-lg")
        ui.label(f"The server allows {counted.allowed} ({counted.limit}, set by {counted.setting}). "
                 "Close another page, or reload this one later.")
        ui.button("Reload", icon="refresh", on_click=lambda: ui.navigate.reload())
    return False


def _send_panel(ingest_url: str, install: str, *, open_: bool, warning: str | None) -> ui.expansion:
    with ui.expansion("Send logs to this stream", icon="send", value=open_).classes("w-full send-panel") as panel:
        if warning is not None:
            with ui.row().classes("items-center gap-2 no-wrap w-full send-warning text-amber-800"):
                ui.icon("warning")
                ui.label(warning).classes("text-sm")
        with ui.row().classes("items-center gap-2 no-wrap w-full"):
            ui.label(f"POST to {ingest_url}").classes("font-mono text-sm ingest-url")
            CopyButton(ingest_url, label="Copy URL", title="Copy the URL to POST log entries to")
        with ui.tabs().props("dense align=left") as tabs:
            curl_tab = ui.tab("curl")
            python_tab = ui.tab("Python")
            shell_tab = ui.tab("pipe & tail")
        with ui.tab_panels(tabs, value=curl_tab).classes("w-full"):
            with ui.tab_panel(curl_tab).classes("p-0"):
                _snippet(curl_snippet(ingest_url), "bash")
            with ui.tab_panel(python_tab).classes("p-0 gap-1"):
                _snippet(install, "bash")
                _snippet(python_snippet(ingest_url), "python")
            with ui.tab_panel(shell_tab).classes("p-0 gap-1"):
                _snippet(install, "bash")
                _snippet(shell_snippet(ingest_url), "bash")
    return panel


def _snippet(text: str, language: str) -> None:
    """A code block with a labelled copy button.

    Not `ui.code`: its copy button is faint and needs the Clipboard API, and each one runs a 0.1 s
    timer in the server for as long as the page is open, which, five per page, cost a UI process
    more CPU than sending the log rows at a few hundred open pages.
    """
    with ui.element("div").classes("relative w-full snippet"):
        with ui.element("pre").classes(f"language-{language}"):
            CodeText(tag="code", text=text)
        CopyButton(text).classes("absolute top-1 right-1")


class CodeText(TextElement):
    """A `<code>` element showing `text` as text (never as markup)."""


async def _linked_line(bus: Bus, stream_id: str,
                       query: dict[str, list[str]]) -> tuple[LineContext | None, str | None]:
    """The lines around the one a link names (`?at=`, `?since=`), and what to tell the reader about it."""
    target = link_target(query)
    if target is None or isinstance(target, str):
        return None, target
    return await read_context(bus, stream_id, target)


async def _follow(client: Client, bus: Bus, stream_id: str, view: LogView, deliver: Deliver, history: int, *,
                  start_after: str | None = None) -> None:
    """Subscribe `deliver` (the view's) to the stream for the client's lifetime, retrying while the bus is down.

    From the history, or with `start_after` from the entry after it (as after a dropped socket).

    The status bar says whether the bus gives lines: the subscription tells it while it lasts. When
    the page's socket comes back after a drop, the view is subscribed again after the last entry the
    page has, so it misses nothing and is sent nothing twice.
    """
    subscription: Subscription | None = None
    one_at_a_time = asyncio.Lock()  # a second drop while resuming must not leave two subscriptions

    def close() -> None:
        if subscription is not None:
            subscription.close()

    async def subscribe(after: str | None) -> None:
        async with one_at_a_time:
            await subscribe_now(after)

    async def subscribe_now(after: str | None) -> None:
        nonlocal subscription
        attempt = 0
        while not client.is_deleted:
            try:
                with view.receiving_history():
                    close()
                    # A resume is bounded like a page open: a page that drops its socket on purpose,
                    # again and again, costs no more than one that reloads.
                    subscription = await bus.subscribe(stream_id, deliver, history=history, after=after,
                                                       after_limit=max(history, RESUME_ENTRIES),
                                                       notice=lambda text: show_notice(client, text),
                                                       availability=view.set_bus_available)
            except BusUnavailable:
                if attempt == 0:
                    view.set_bus_available(False)
                    with client:
                        ui.notify("The log bus is unavailable; retrying…", type="warning")
                await asyncio.sleep(_RETRY_DELAYS_S[min(attempt, len(_RETRY_DELAYS_S) - 1)])
                attempt += 1
                continue
            if client.is_deleted:  # closed while we were subscribing
                close()
                return
            if attempt > 0:
                view.set_bus_available(bus.available)  # from now on, the subscription tells it each change
                with client:
                    ui.notify("Connected to the log bus again", type="positive")
            return

    def resume(after: str | None) -> None:
        background_tasks.create(subscribe(after), name=f"resume {client.id}")

    view.on_resume(resume)
    client.on_delete(close)  # after NiceGUI's reconnect window, not on a brief drop
    await subscribe(start_after)
