"""`/<key>+<key>[+…]`: one live view of several streams, each row marked with its stream's colour and name.

A merged view is for reading: it has no send panel (each stream's chip opens the stream alone, where
a write key's page has one), and it shows no key it was not given. Like a stream's page, it loads
older lines, searches everything kept and gets back the rows it held when reloaded: of each stream,
merged by ID (`older_lines`, `held_rows`).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from nicegui import background_tasks, events, ui

from ..elements.log_view import LogView
from ..elements.recent_pages import PageVisit
from ..elements.stream_strip import StreamStrip
from ..follower_limits import FollowerLimits
from ..protocol import bus_stream_id, is_view_key, view_key
from ..settings import Settings
from ..stream import Bus
from .addresses import public_base
from .frame import page_frame
from .held_rows import restore_held_rows
from .line_link import link_target
from .menu_tooltip import tooltip_hidden_by_menu
from .older_lines import OlderLines
from .page_access import (
    NO_SUCH_STREAM_PAGE,
    PRIVATE_PAGE_HEAD,
    answer_instead,
    constant_page,
    count_viewer,
    socket_connected,
)
from .page_follow import follow
from .page_notices import PageNotices
from .read_only_link import read_only_link
from .restart_notice import RestartNotice
from .stream_keys import (
    MAX_ADDRESS_PARTS,
    MAX_MERGED_STREAMS,
    TooManyParts,
    TooManyStreams,
    keys_in_text,
    keys_path,
    named_streams,
    page_keys,
    page_streams,
    short_keys,
)
from .view_filter import ViewFilter
from .viewer_controls import ViewerControls

LINE_LINK_ELSEWHERE = ("A link to a line opens in that line's own stream, and one to a time (since=) in one "
                       "stream's page; this merged view shows the streams from their newest lines.")
TOO_MANY = f"A merged view shows at most {MAX_MERGED_STREAMS} streams."

TOO_MANY_STREAMS_PAGE = constant_page("Too many streams", f"""{TOO_MANY} Its address joins their keys with \
<code>+</code>, like <code>/3f8a7c2e-…+9b1dc0a4-…</code>. Open fewer at once, or <a href="/">go to the start</a>.""")
TOO_MANY_PARTS_PAGE = constant_page("Address too long", f"""This address joins more than {MAX_ADDRESS_PARTS} \
keys with <code>+</code>, so it is not read. {TOO_MANY} Name each stream once, or <a href="/">go to the start</a>.""")


async def merged_stream_page(settings: Settings, bus: Bus, followers: FollowerLimits | None, path: str,
                             request: Request) -> HTMLResponse | RedirectResponse | None:
    """Build the page of the merged view `path` names (the address without its `/`), or answer why not."""
    keys = page_keys(path)
    if keys is None:
        return answer_instead(HTMLResponse(NO_SUCH_STREAM_PAGE, status_code=404))
    if isinstance(keys, TooManyStreams):
        return answer_instead(HTMLResponse(TOO_MANY_STREAMS_PAGE, status_code=400))
    if isinstance(keys, TooManyParts):
        return answer_instead(HTMLResponse(TOO_MANY_PARTS_PAGE, status_code=400))
    canonical = keys_path(keys)
    if canonical != f"/{path}":  # one view, one address: lower-case keys, each stream once (one: its own page)
        query = f"?{request.url.query}" if request.url.query else ""
        return answer_instead(RedirectResponse(f"{canonical}{query}", status_code=308))
    read_only = all(is_view_key(key) for key in keys)
    ui.page_title(f"BunnyLogs · {len(keys)} streams" + (" · read-only" if read_only else ""))
    ui.add_head_html(PRIVATE_PAGE_HEAD)
    refusal = None if followers is None else count_viewer(followers, settings, keys, request)
    if refusal is not None:
        return answer_instead(refusal)
    params = {key: request.query_params.getlist(key) for key in request.query_params}
    view_filter = ViewFilter.from_query(params)  # a hidden stream: by the start of its key, as long as it is one
    view_filter = view_filter.changed(hidden_streams=named_streams(view_filter.hidden_streams, keys))
    streams = page_streams(keys)
    with page_frame(f"{len(keys)} streams" + (" · read-only" if read_only else "")):
        notices = PageNotices()
        if link_target(params) is not None:
            notices.show(LINE_LINK_ELSEWHERE, "link")
        PageVisit(streams)
        if not read_only:  # the view key of each stream: a link to share without letting anyone send
            with ui.row().classes("items-center gap-2 no-wrap w-full access-row"):
                read_only_link(f"{public_base(settings, request)}{keys_path([view_key(key) for key in keys])}",
                               title="Copy a link that shows these streams but cannot send logs to them")
        strip = StreamStrip(streams, hidden=view_filter.hidden_streams)
        controls = ViewerControls(canonical[1:], view_filter)
        view = LogView(max_rows=settings.max_rows, view_filter=view_filter.to_component(),
                       highlights=view_filter.highlights_component(), utc=view_filter.utc,
                       stream_name=f"bunnylogs-{len(keys)}-streams",
                       link_path=keys_path([view_key(key) for key in keys]),  # a line's link: its stream's, read-only
                       display=view_filter.display_component(), streams=streams)
        view.classes("stream-log")
        controls.attach(view)
        # Listens to the view from the start: a listener added once the page is shown would redraw it.
        older = OlderLines(ui.context.client, bus, [bus_stream_id(key) for key in keys], view,
                           max_rows=settings.max_rows, max_kept=settings.max_stream_length,
                           view_filter=lambda: controls.filter, short_keys=short_keys(keys))
        strip.on("toggle", lambda event: _on_toggle(keys, controls, event))
        strip.on("remove", lambda event: _on_remove(keys, controls, event))
        strip.on("add", lambda event: _on_add(keys, controls, event))
    client = ui.context.client
    if not await socket_connected(client, settings):  # its socket never came (a crawler, curl): nothing to follow for
        return None
    background_tasks.create(controls.restore_theme(), name=f"restore theme {client.id}")
    stream_ids = [bus_stream_id(key) for key in keys]
    notice = RestartNotice(canonical, notices.show, entries_survive=bus.keeps_entries_across_restarts,
                           history_lost=lambda: _first_lost(bus, stream_ids))
    background_tasks.create(notice.check(client), name=f"restart notice {client.id}")
    await follow(client, view, bus, stream_ids, notice.watch(view.push), settings.history, notice=notices.show,
                 recount=older.tell_kept)
    background_tasks.create(older.tell_kept(), name=f"kept count {client.id}")
    # Once it follows: a reloaded page gets back what it held, asked for on the side.
    background_tasks.create(restore_held_rows(client, bus, stream_ids, view, max_rows=settings.max_rows),
                            name=f"restore rows {client.id}")
    return None


async def _first_lost(bus: Bus, stream_ids: list[str]) -> str | None:
    for stream_id in stream_ids:
        lost = await bus.history_lost(stream_id)
        if lost is not None:
            return lost
    return None


def _on_toggle(keys: list[str], controls: ViewerControls, event: events.GenericEventArguments) -> None:
    args = event.args if isinstance(event.args, dict) else {}
    short, shown = args.get("short"), args.get("shown")
    if short in short_keys(keys) and isinstance(shown, bool):
        controls.show_stream(short, shown)


def _on_remove(keys: list[str], controls: ViewerControls, event: events.GenericEventArguments) -> None:
    index = event.args.get("index") if isinstance(event.args, dict) else None
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(keys) or len(keys) < 2:
        return
    removed = short_keys(keys)[index]
    left = [key for position, key in enumerate(keys) if position != index]
    hidden = [short for short in controls.filter.hidden_streams if short != removed and len(left) > 1]
    _go_to(left, controls.filter.changed(hidden_streams=hidden))


def _on_add(keys: list[str], controls: ViewerControls, event: events.GenericEventArguments) -> None:
    text = event.args.get("text") if isinstance(event.args, dict) else None
    if isinstance(text, str):
        add_streams(keys, text, controls.filter)


def add_stream_button(keys: list[str], view_filter: Callable[[], ViewFilter]) -> None:
    """A button whose menu takes another stream's URL or key, and opens the view of these streams and it."""
    button = ui.button("Add stream", icon="add").props("flat dense no-caps").classes("bl-add-stream")
    with button, ui.menu() as menu:
        field = ui.input(placeholder="Paste a stream's URL or key").props("dense outlined autofocus")
        field.classes("bl-add-stream-input m-2 min-w-64")
        field.on("keydown.enter", lambda: add_streams(keys, field.value or "", view_filter()))
    tooltip_hidden_by_menu(button, menu, "Show another stream in this view, merged by time")


def add_streams(keys: list[str], text: str, view_filter: ViewFilter) -> None:
    """Open the view of `keys` and the streams named in `text` (pasted), or say why not."""
    added = keys_in_text(text)
    if not added:
        ui.notify("No stream key there: paste a stream's URL or its key (a UUID).", type="warning")
        return
    wanted = page_keys("+".join([*keys, *added]))
    if isinstance(wanted, TooManyStreams | TooManyParts):
        ui.notify(TOO_MANY, type="warning")
        return
    if wanted is None or wanted == keys:
        ui.notify("That stream is in this view already.", type="info")
        return
    _go_to(wanted, view_filter)


def _go_to(keys: list[str], view_filter: ViewFilter) -> None:
    query = view_filter.to_query()
    ui.navigate.to(keys_path(keys) + (f"?{query}" if query else ""))
