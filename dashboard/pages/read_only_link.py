"""The read-only link a page with a write key offers, to share a view that cannot send logs."""

from __future__ import annotations

from nicegui import ui

from ..elements.copy_button import CopyButton


def read_only_link(view_url: str, *, title: str) -> None:
    """The link (cut to the row's width) and a button that copies it; `title` says what it shows."""
    ui.icon("visibility").classes("text-slate-500 read-only-icon")
    ui.label(f"Read-only link: {view_url}").classes("font-mono text-sm truncate read-only-url")
    CopyButton(view_url, label="Copy read-only link", title=title)
