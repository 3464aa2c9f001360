"""The highlight rules' controls: a menu that adds a rule, and a chip per rule that recolours or removes it."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from .highlight_rules import HIGHLIGHT_COLOURS, MAX_HIGHLIGHT_CHARS, MAX_HIGHLIGHT_RULES, HighlightRule, next_colour
from .menu_tooltip import tooltip_hidden_by_menu

# Called with the rules after the viewer changed them.
RulesChanged = Callable[[tuple[HighlightRule, ...]], None]


class HighlightControls:
    """A button whose menu adds a rule (Enter adds, Esc closes), and `place_chips` shows the rules.

    Rule texts reach the page only as element text (`printable`, as the program names); a chip's
    classes come from the palette's names, never from what was typed or linked.
    """

    def __init__(self, rules: tuple[HighlightRule, ...], on_change: RulesChanged) -> None:
        self.rules = rules
        self._on_change = on_change
        self._colour: str | None = None  # chosen for the next rule; None: the next one in turn
        self._in_error: set[int] = set()
        self._chips_row: ui.row | None = None
        self._build_menu()

    def _build_menu(self) -> None:
        button = ui.button(icon="format_color_fill").props("flat dense").classes("bl-highlight-button")
        button.props["aria-label"] = "Highlight rules"
        with button, ui.menu().classes("bl-highlight-menu") as menu, ui.column().classes("gap-2 p-3"):
            self._text = ui.input(placeholder="Text to highlight").props("dense outlined autofocus")
            self._text.classes("bl-highlight-text w-64")
            self._text.props["maxlength"] = MAX_HIGHLIGHT_CHARS
            self._text.on("keydown.enter", self._add)
            with ui.row().classes("items-center gap-1 no-wrap"):
                self._regex = ui.checkbox(".*").classes("bl-highlight-regex").tooltip("Regular expression")
                self._swatches = {name: self._swatch(name) for name in HIGHLIGHT_COLOURS}
            ui.button("Add", icon="add", on_click=self._add).props("dense no-caps").classes("bl-highlight-add")
        menu.on("show", lambda: self._text.run_method("focus"))
        tooltip_hidden_by_menu(button, menu, "Highlight words in colour, hiding no line")

    def _swatch(self, name: str) -> ui.button:
        swatch = ui.button(on_click=lambda: self._choose(name)).props("round dense flat size=sm")
        swatch.classes(f"bl-swatch bl-swatch-{name}")  # a palette name, never the viewer's text
        swatch.props["aria-label"] = name
        swatch.props["aria-pressed"] = "false"
        return swatch

    def place_chips(self) -> None:
        """Put the row of rule chips here (it wraps; hidden while there is no rule)."""
        self._chips_row = ui.row().classes("w-full items-center gap-1 bl-highlights")
        self._show_chips()

    def mark_errors(self, positions: set[int]) -> None:
        """Show the rules at these positions as turned off (invalid, or too slow)."""
        if positions != self._in_error:
            self._in_error = positions
            self._show_chips()

    # --- reacting -----------------------------------------------------------------------------------
    def _choose(self, name: str) -> None:
        self._colour = None if self._colour == name else name
        for swatch_name, swatch in self._swatches.items():
            swatch.props["aria-pressed"] = "true" if swatch_name == self._colour else "false"
            swatch.update()

    def _add(self) -> None:
        text = (self._text.value or "")[:MAX_HIGHLIGHT_CHARS]
        if not text:
            return
        regex = bool(self._regex.value)
        others = tuple(rule for rule in self.rules if rule.key != (text, regex))
        if len(others) >= MAX_HIGHLIGHT_RULES:
            ui.notify(f"At most {MAX_HIGHLIGHT_RULES} highlight rules: remove one first.", type="warning")
            return
        # The same text again takes the colour chosen now: that is how a rule is recoloured.
        rule = HighlightRule(text=text, colour=self._colour or next_colour(others), regex=regex)
        self._text.value = ""
        self._change((*others, rule) if len(others) == len(self.rules) else self._replace(rule))

    def _replace(self, new: HighlightRule) -> tuple[HighlightRule, ...]:
        return tuple(new if rule.key == new.key else rule for rule in self.rules)

    def _recolour(self, position: int) -> None:
        rule = self.rules[position]
        colour = HIGHLIGHT_COLOURS[(HIGHLIGHT_COLOURS.index(rule.colour) + 1) % len(HIGHLIGHT_COLOURS)]
        self._change(self._replace(HighlightRule(text=rule.text, colour=colour, regex=rule.regex)))

    def _remove(self, position: int) -> None:
        self._change(self.rules[:position] + self.rules[position + 1:])

    def _change(self, rules: tuple[HighlightRule, ...]) -> None:
        self.rules = rules
        self._in_error = set()  # the view says again which are in error
        self._show_chips()
        self._on_change(rules)

    def _show_chips(self) -> None:
        if self._chips_row is None:
            return
        self._chips_row.clear()
        self._chips_row.set_visibility(bool(self.rules))
        with self._chips_row:
            for position, rule in enumerate(self.rules):
                self._chip(position, rule)

    def _chip(self, position: int, rule: HighlightRule) -> None:
        chip = ui.chip(rule.label, color=None, removable=True, on_click=lambda: self._recolour(position),
                       on_value_change=lambda event: None if event.value else self._remove(position))
        chip.props("dense").classes(f"bl-hl-chip bl-hl-chip-{rule.colour}")
        chip.props["data-colour"] = rule.colour
        if position in self._in_error:
            chip.classes("bl-hl-chip-error")
            chip.props["aria-invalid"] = "true"
            chip.tooltip("Turned off: see the status bar below")
        else:
            chip.tooltip("Click for the next colour")
