"""A tooltip for a button that opens a menu, which the menu's opening hides."""

from __future__ import annotations

from nicegui import ui


def tooltip_hidden_by_menu(button: ui.button, menu: ui.menu, text: str) -> None:
    """Give `button` the tooltip `text`, hidden as `menu` opens: the pointer that opened the menu rests on
    the button, and its tooltip lay over the menu's field (all of it on a phone) until the pointer left."""
    tooltip = ui.tooltip(text)
    tooltip.props["target"] = f"#{button.html_id}"
    menu.on("before-show", js_handler=f"() => getElement({tooltip.id}).hide()")
