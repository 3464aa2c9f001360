"""The frame every BunnyLogs page shares: header, styles and a full-height content column."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nicegui import ui

_STATIC = Path(__file__).parent.parent / "static"
_STYLESHEET = (_STATIC / "bunnylogs.css").read_text()
_TAILWIND = (_STATIC / "tailwind.css").read_text()
_tailwind_added = False


def add_tailwind_to_every_page() -> None:
    """The Tailwind utilities the pages use, built ahead of time (`./dev css`), in the head of every
    page NiceGUI serves, its own error pages included (they lean on Tailwind's base styles)."""
    global _tailwind_added
    if not _tailwind_added:
        ui.add_css(_TAILWIND, shared=True)
        _tailwind_added = True


@contextmanager
def page_frame(subtitle: str | None = None) -> Iterator[ui.column]:
    """Header with the product name (and `subtitle`), then a column that fills the window below it.

    The page itself never scrolls when the content fits (see `.bl-frame` in bunnylogs.css): a log
    view in the column takes the height that is left and scrolls inside.
    """
    ui.add_css(_STYLESHEET)
    ui.query(".nicegui-content").classes("p-0 gap-0")
    with ui.header().classes("items-center flex-nowrap bg-slate-800 px-4 py-2 gap-3"):
        with ui.link(target="/").classes("flex flex-none items-center gap-1 text-lg font-semibold text-white "
                                         "no-underline"):
            ui.icon("cruelty_free")
            ui.label("BunnyLogs")
        if subtitle:
            ui.label(subtitle).classes("font-mono text-sm text-slate-300 truncate min-w-0")
    with ui.column().classes("w-full p-4 gap-3 flex-nowrap bl-frame") as content:
        yield content
