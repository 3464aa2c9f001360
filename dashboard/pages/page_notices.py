"""Notices about a page's streams: each a row at the top of the page until its reader closes it.

A row in the page's flow, not a notification over the page: it covers no control (a floating
notice lay over the header's buttons until closed). The text is always one of ours, set as text.
"""

from __future__ import annotations

from typing import Literal

from nicegui import ui

NoticeKind = Literal["link", "restart"]
# What each kind of notice is marked with (constants: never built from the text).
_KINDS: dict[NoticeKind, tuple[str, str]] = {
    "link": ("bl-link-notice", "info"),  # what became of the line or time the page's address names
    "restart": ("bl-restart-notice", "warning"),  # lines a restart, a lost history or a long drop took away
}


class PageNotices:
    """The place for a page's notices: create it where they should show, while the page is built."""

    def __init__(self) -> None:
        self._area = ui.column().classes("bl-notices w-full gap-2")
        self._shown: dict[str, ui.row] = {}  # each notice showing, by its text

    def show(self, text: str, kind: NoticeKind = "restart") -> None:
        """Show `text` (first letter capitalised) until the reader presses OK; nothing once the page is gone,
        nor while the same text is showing (a stream trimmed again and again says so once)."""
        if self._area.is_deleted or self._area.client.is_deleted:
            return
        showing = self._shown.get(text)
        if showing is not None and not showing.is_deleted:
            return
        css_class, icon = _KINDS[kind]
        with self._area, ui.row().classes(f"{css_class} items-center gap-2 no-wrap w-full") as notice:
            notice.props("role=status")
            ui.icon(icon).classes("flex-none")
            ui.label(text[:1].upper() + text[1:]).classes("text-sm min-w-0 grow")
            ui.button("OK", on_click=notice.delete).props("flat dense no-caps").classes("flex-none")
        self._shown[text] = notice
