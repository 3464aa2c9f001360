"""`/`: what BunnyLogs is, a button that opens a new stream, and the streams this browser opened lately."""

from __future__ import annotations

import uuid

from nicegui import ui

from ..elements.recent_pages import RecentPages
from ..settings import Settings
from .frame import page_frame
from .page_access import socket_connected

_STEPS = (
    ("1. Open a stream", "Each stream lives at its own random URL. Nobody signs up: the UUID is the key."),
    ("2. Send lines", "POST to /live/<uuid> from curl, Python or any script: form fields, JSON, NDJSON or text."),
    ("3. Watch them arrive", "Everyone with the URL sees new lines within milliseconds."),
)


def register_landing_page(settings: Settings) -> None:
    """Add the `/` page."""

    @ui.page("/", title="BunnyLogs · live logs")
    async def landing_page() -> None:
        with page_frame(), ui.column().classes("max-w-3xl mx-auto mt-8 gap-6"):
            ui.label("Live logs from any script, in your browser.").classes("text-3xl font-semibold")
            ui.label("Self-hosted and pure Python. Send lines over HTTP; watch them stream in live.") \
                .classes("text-lg text-slate-600")
            ui.button("New stream", icon="add", on_click=lambda: ui.navigate.to(f"/{uuid.uuid4()}")) \
                .props("size=lg unelevated").classes("new-stream")
            RecentPages().classes("w-full")
            with ui.row().classes("gap-4 flex-nowrap"):
                for heading, text in _STEPS:
                    with ui.card().classes("w-1/3"):
                        ui.label(heading).classes("font-semibold")
                        ui.label(text).classes("text-sm text-slate-600")
        await socket_connected(ui.context.client, settings)  # let go soon of a page nobody opened (NiceGUI: a minute)
