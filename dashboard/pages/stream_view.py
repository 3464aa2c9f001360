"""`/<uuid>`: the live view of one stream, with snippets that send to it (but not for a view key)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from nicegui import background_tasks, ui
from nicegui.elements.mixins.text_element import TextElement

from ..elements.copy_button import CopyButton
from ..elements.log_view import LogView
from ..elements.recent_pages import PageVisit
from ..follower_limits import FollowerLimits
from ..protocol import bus_stream_id, canonical_stream_id, is_view_key, view_key
from ..settings import Settings
from ..stream import Bus
from . import addresses, send_panel_state
from .frame import page_frame
from .held_rows import restore_held_rows
from .line_link import LineContext, link_target, read_context
from .merged_view import add_stream_button, merged_stream_page
from .older_lines import OlderLines
from .page_access import NO_SUCH_STREAM_PAGE, PRIVATE_PAGE_HEAD, answer_instead, count_viewer, socket_connected
from .page_follow import follow
from .page_notices import PageNotices
from .read_only_link import read_only_link
from .restart_notice import RestartNotice
from .snippets import curl_snippet, install_command, python_snippet, shell_snippet
from .stream_keys import SEPARATOR, page_streams
from .view_filter import ViewFilter
from .viewer_controls import ViewerControls


def register_stream_page(settings: Settings, bus: Bus, followers: FollowerLimits | None = None) -> None:
    """Add the `/{stream_id}` page, reading from `bus`, within `followers`' limits when given."""

    @ui.page("/{stream_id}", title="BunnyLogs")
    async def stream_page(stream_id: str, request: Request) -> HTMLResponse | RedirectResponse | None:
        if SEPARATOR in stream_id:
            return await merged_stream_page(settings, bus, followers, stream_id, request)
        canonical = canonical_stream_id(stream_id)
        if canonical is None:
            return answer_instead(HTMLResponse(NO_SUCH_STREAM_PAGE, status_code=404))
        if canonical != stream_id:  # one stream, one address: the lower-case one
            query = f"?{request.url.query}" if request.url.query else ""
            return answer_instead(RedirectResponse(f"/{canonical}{query}", status_code=308))
        read_only = is_view_key(stream_id)
        ui.page_title(f"BunnyLogs · {stream_id[:8]}" + (" · read-only" if read_only else ""))
        ui.add_head_html(PRIVATE_PAGE_HEAD)
        refusal = None if followers is None else count_viewer(followers, settings, [stream_id], request)
        if refusal is not None:
            return answer_instead(refusal)
        params = {key: request.query_params.getlist(key) for key in request.query_params}
        view_filter = ViewFilter.from_query(params)
        context, link_notice = await _linked_line(bus, bus_stream_id(stream_id), params)
        panel_open = not read_only and await send_panel_state.opens_by_default(
            bus, bus_stream_id(stream_id), has_query=bool(request.query_params))
        with page_frame(stream_id):
            notices = PageNotices()
            if link_notice is not None:
                notices.show(link_notice, "link")
            PageVisit(page_streams([stream_id]))
            _access_row(addresses.view_url(settings, request, stream_id), read_only=read_only,
                        add_stream=lambda: add_stream_button([stream_id], lambda: controls.filter))
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
            older = OlderLines(ui.context.client, bus, [bus_stream_id(stream_id)], view, max_rows=settings.max_rows,
                               max_kept=settings.max_stream_length, view_filter=lambda: controls.filter)
        client = ui.context.client
        if not await socket_connected(client, settings):  # no socket came (a crawler, curl): nothing to follow for
            return None
        # Nothing the browser answers late, or never, may keep the view from following: the
        # theme, the send panel's remembered state and the tab's last visit are asked for on the side.
        background_tasks.create(controls.restore_theme(), name=f"restore theme {client.id}")
        # The reader's remembered choice holds where the default is a guess: a stream with lines,
        # opened without filters. An empty stream always shows how to send; a filtered link is for reading.
        if send_panel is not None and not panel_open and not request.query_params:
            background_tasks.create(send_panel_state.restore_choice(send_panel), name=f"restore send panel {client.id}")
        notice = RestartNotice(stream_id, notices.show, entries_survive=bus.keeps_entries_across_restarts,
                               history_lost=functools.partial(bus.history_lost, bus_stream_id(stream_id)))
        background_tasks.create(notice.check(client), name=f"restart notice {client.id}")
        if context is not None:  # the lines around the linked one, paused: what follows them waits
            view.push_older(context.entries)
            controls.show_paused(True)  # the page opened paused (its anchor), and says so on its button
        await follow(client, view, bus, [bus_stream_id(stream_id)], notice.watch(view.push), settings.history,
                     notice=notices.show, start_after=None if context is None else {0: context.entries[-1].id},
                     recount=older.tell_kept)
        background_tasks.create(older.tell_kept(), name=f"kept count {client.id}")
        if context is None:  # (a linked page shows the lines around its line, not what the tab held)
            # Once it follows: a reloaded page gets back what it held, asked for on the side like the theme.
            background_tasks.create(restore_held_rows(client, bus, [bus_stream_id(stream_id)], view,
                                                      max_rows=settings.max_rows), name=f"restore rows {client.id}")
        return None


def _access_row(view_url: str, *, read_only: bool, add_stream: Callable[[], None]) -> None:
    """On a view key's page, that it is read-only; on the write key's, the read-only link to share.

    Then `add_stream`: a way to show another stream beside this one.
    """
    with ui.row().classes("items-center gap-2 no-wrap w-full access-row"):
        if read_only:
            # The colour as a class: NiceGUI's color="slate-600" makes one at run time, which the
            # stylesheet built ahead of time (./dev css) cannot see.
            ui.badge("read-only", color=None).classes("read-only-badge bg-slate-600")
            ui.label("This link shows the stream; it cannot send logs to it.").classes("text-sm read-only-note")
            CopyButton(view_url, label="Copy link", title="Copy this read-only link")
        else:
            read_only_link(view_url, title="Copy a link that shows this stream but cannot send logs to it")
        add_stream()


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
