"""The NiceGUI pages, mounted under the outer FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI
from nicegui import ui

from ..follower_limits import FollowerLimits
from ..settings import Settings
from ..stream import Bus
from .frame import add_tailwind_to_every_page
from .head_answers import answer_head_requests
from .landing import register_landing_page
from .not_found import answer_not_found_without_a_page
from .page_heap import page_heap
from .stream_view import register_stream_page


def mount_ui(app: FastAPI, settings: Settings, bus: Bus, followers: FollowerLimits | None = None) -> None:
    """Register the pages and mount NiceGUI on `app` (its middleware stays off the ingest path)."""
    register_landing_page(settings)
    register_stream_page(settings, bus, followers)
    answer_not_found_without_a_page()
    answer_head_requests(followers)
    add_tailwind_to_every_page()  # in place of NiceGUI's in-page compiler (tailwind=False below)
    page_heap.install()
    # A page that reconnects is replayed what it missed from its last 16 messages (else it reloads
    # and starts from the history): NiceGUI's default, 1,000, kept up to 20 s of a busy stream in
    # memory for every viewer.
    ui.run_with(app, title="BunnyLogs", favicon="🐰", show_welcome_message=False,
                reconnect_timeout=settings.page_reconnect_seconds, message_history_length=16, tailwind=False)
