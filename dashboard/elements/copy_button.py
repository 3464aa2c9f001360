"""A button that copies a text to the clipboard, in the browser (also on plain HTTP to another host)."""

from __future__ import annotations

from nicegui.element import Element


class CopyButton(Element, component="copy_button.js", dependencies=["log_export.js"]):
    """Shows `label` and a copy icon; a click copies `text` and says "Copied" for a moment."""

    def __init__(self, text: str, *, label: str = "Copy", title: str = "Copy to the clipboard") -> None:
        super().__init__()
        self._props["text"] = text
        self._props["label"] = label
        self._props["title"] = title
