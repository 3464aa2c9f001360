"""The toolbar of a stream view: NiceGUI controls that drive the browser-side log view."""

from __future__ import annotations

from collections.abc import Iterable

from nicegui import events, ui

from ..client.tail import printable
from ..elements.log_view import LogView
from ..protocol import STANDARD_LEVELS, is_level_name
from .highlight_controls import HighlightControls
from .view_filter import ViewFilter

_THEME_CYCLE = {None: True, True: False, False: None}  # auto → dark → light → auto
_THEME_ICONS = {None: "brightness_auto", True: "dark_mode", False: "light_mode"}
_THEME_ANSWER_TIMEOUT_S = 10.0
# The page never makes more level chips or program choices than these, whatever a stream holds
# (ingest caps a stream's names too: --levels-per-stream, --programs-per-stream).
MAX_LEVEL_CHIPS = 40
MAX_PROGRAM_CHOICES = 500
_THEME_NAMES = {None: "Theme: follows the system", True: "Theme: dark", False: "Theme: light"}


# Esc empties the field here and now too: the text typed just before it (within the field's debounce)
# would otherwise reach the server after the server's clearing, and put the filter back.
_CLEAR_HERE_TOO = """(event) => {
  const input = event.target;
  if (input.value !== "") {
    input.value = "";
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }
  emit(event);
}"""
_CHIP_INTO_VIEW = "(event) => event.target.scrollIntoView({ block: 'nearest', inline: 'nearest' })"
_WHEEL_SIDEWAYS = """(event) => {
  const line = event.currentTarget;
  if (line.scrollWidth <= line.clientWidth || event.deltaX !== 0 || event.deltaY === 0) return;
  const before = line.scrollLeft;
  line.scrollLeft += event.deltaY;
  if (line.scrollLeft !== before) event.preventDefault();  // the line took the turn: the page does not
}"""

class ViewerControls:
    """Filter, pause, clear, follow, time zone, download and theme controls for one `LogView`."""

    def __init__(self, stream_id: str, view_filter: ViewFilter) -> None:
        self.stream_id = stream_id
        self.filter = view_filter
        self.paused = False
        self.view: LogView | None = None
        self._level_chips: dict[str, ui.chip] = {}
        self._more_levels: ui.label | None = None
        self._build_toolbar()

    def attach(self, view: LogView) -> None:
        """Drive `view`, and listen to what it reports."""
        self.view = view
        view.on("seen", self._on_seen)
        view.on("filter_error", self._on_filter_error)
        view.on("highlight_errors", self._on_highlight_errors)
        view.on("key", self._on_key)
        view.on("paused", self._on_paused)
        # The page pauses at once, and says so (`paused`): rows that come meanwhile are held already.
        self.pause_button.on("click", js_handler=f"() => getElement({view.id}).togglePause()")
        view.on("strip", self._on_strip)
        view.on("columns", self._on_columns)

    # --- building ---------------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        with ui.row().classes("w-full items-center gap-2 bl-toolbar"):
            self.text_input = ui.input(placeholder="Filter   ( / )", value=self.filter.text, on_change=self._on_text)
            self.text_input.props("dense outlined clearable debounce=150 hide-bottom-space")
            self.text_input.classes("bl-filter-input")
            self.text_input.tooltip("Text to find (case-insensitive), and fields: key=value, key!=value, "
                                    "key~regex, dotted paths for nested keys (user.id=42); "
                                    "with .* all of it is one regular expression")
            self.text_input.on("keydown.esc", self._clear_text, js_handler=_CLEAR_HERE_TOO)
            self.regex_toggle = ui.checkbox(".*", value=self.filter.regex,
                                            on_change=lambda e: self._apply(regex=e.value))
            self.regex_toggle.classes("bl-regex").tooltip("Regular expression")
            self.invert_toggle = ui.checkbox("not", value=self.filter.invert,
                                             on_change=lambda e: self._apply(invert=e.value))
            self.invert_toggle.classes("bl-invert").tooltip("Show the lines that do not match")
            self.highlights = HighlightControls(self.filter.highlights, lambda rules: self._apply(highlights=rules))
            with ui.row().classes("gap-0 items-center bl-levels") as self._levels_row:
                for level in STANDARD_LEVELS:
                    self._add_level_chip(level)
            # The chips' line scrolls sideways: a chip the keys reach comes whole into view (Chromium leaves
            # one partly in view as it is), and a mouse's wheel scrolls the line as it has no other way.
            self._levels_row.on("focusin", js_handler=_CHIP_INTO_VIEW)
            self._levels_row.on("wheel", js_handler=_WHEEL_SIDEWAYS)
            for level in self.filter.hidden_levels:
                if level not in self._level_chips:
                    with self._levels_row:
                        self._add_level_chip(level)
            self.program_select = ui.select(_program_options(self.filter.programs), value=list(self.filter.programs),
                                            multiple=True, label="Programs", clearable=True,
                                            on_change=self._on_programs)
            self.program_select.props("dense outlined use-chips options-dense popup-content-class=bl-programs-menu")
            self.program_select.classes("bl-programs min-w-36")
            ui.space()
            self.pause_button = ui.button("Pause", icon="pause")
            self.pause_button.props("flat dense no-caps").classes("bl-pause").tooltip("Pause / resume (Space)")
            ui.button("Clear", icon="delete_sweep", on_click=self._clear_rows).props(
                "flat dense no-caps").classes("bl-clear").tooltip("Empty this view (others keep theirs)")
            self.utc_toggle = ui.switch("UTC", value=self.filter.utc, on_change=self._on_utc).classes("bl-utc")
            download = ui.button(icon="download").props("flat dense").classes("bl-download")
            download.props["aria-label"] = "Download what is shown"  # else named by its icon: "download"
            download.tooltip("Download what is shown")
            with download, ui.menu():
                ui.menu_item("as .log text", on_click=lambda: self._download("log")).classes("bl-download-log")
                ui.menu_item("as .ndjson", on_click=lambda: self._download("ndjson")).classes("bl-download-ndjson")
            self.dark = ui.dark_mode(None)
            self.theme_button = ui.button(icon=_THEME_ICONS[None], on_click=self._cycle_theme).props(
                "flat dense").classes("bl-theme")
            self.theme_button.props["aria-label"] = _THEME_NAMES[None]  # else named by its icon
            with self.theme_button:
                self.theme_tooltip = ui.tooltip(_THEME_NAMES[None])
        self.highlights.place_chips()

    def _add_level_chip(self, level: str) -> None:
        chip = ui.chip(level, selectable=True, selected=level not in self.filter.hidden_levels,
                       on_selection_change=lambda e, name=level: self._on_level(name, e.value))
        # The level may come from the URL or a log entry: it is passed as a prop's value, never
        # parsed as part of a props string (a key starting with ':' would run as JavaScript).
        chip.props("dense square").classes("bl-level-chip")
        chip.props["data-level"] = level
        # To a screen reader a checkbox named by its level (not "check DEBUG", the icon's name first).
        chip.props.update({"role": "checkbox", "aria-label": level,
                           "aria-checked": _aria_bool(level not in self.filter.hidden_levels)})
        self._level_chips[level] = chip

    # --- reacting -----------------------------------------------------------------------------------
    def _apply(self, **changes: object) -> None:
        new_filter = self.filter.changed(**changes)
        if new_filter == self.filter:
            return
        refilter = new_filter.to_component() != self.filter.to_component()  # not for the UTC switch alone
        rehighlight = new_filter.highlights != self.filter.highlights
        self.filter = new_filter
        if self.view is not None and refilter:
            self.view.set_filter(new_filter.to_component())
        if self.view is not None and rehighlight:
            self.view.set_highlights(new_filter.highlights_component())
        query = new_filter.to_query()
        ui.navigate.history.replace(f"/{self.stream_id}" + (f"?{query}" if query else ""))

    def _on_text(self, event: events.ValueChangeEventArguments) -> None:
        self._apply(text=(event.value or "")[:500])

    def _clear_text(self) -> None:
        self.text_input.value = ""

    def _on_level(self, level: str, shown: bool) -> None:
        chip = self._level_chips[level]
        chip.props["aria-checked"] = _aria_bool(shown)
        chip.update()
        self._apply(hidden_levels=_hidden_after(self.filter.hidden_levels, level, shown))

    def _on_programs(self, event: events.ValueChangeEventArguments) -> None:
        self._apply(programs=list(event.value or []))

    def _on_utc(self, event: events.ValueChangeEventArguments) -> None:
        self._apply(utc=bool(event.value))
        if self.view is not None:
            self.view.set_utc(bool(event.value))

    def _on_seen(self, event: events.GenericEventArguments) -> None:
        programs = [p for p in event.args.get("programs", []) if isinstance(p, str)]
        if programs and len(self.program_select.options) < MAX_PROGRAM_CHOICES:
            names = list(dict.fromkeys([*self.program_select.options, *programs]))[:MAX_PROGRAM_CHOICES]
            self.program_select.set_options(_program_options(names), value=self.program_select.value)
        for level in event.args.get("levels", []):
            if isinstance(level, str) and is_level_name(level) and level not in self._level_chips:
                if len(self._level_chips) >= MAX_LEVEL_CHIPS:
                    self._show_more_levels()
                    break
                with self._levels_row:
                    self._add_level_chip(level)

    def _show_more_levels(self) -> None:
        """Say once that the stream has more levels than chips; the text filter still finds them."""
        if self._more_levels is None:
            with self._levels_row:
                self._more_levels = ui.label(f"+ more (over {MAX_LEVEL_CHIPS} levels: filter by text)")
                self._more_levels.classes("text-xs opacity-70 bl-more-levels")

    def _on_filter_error(self, event: events.GenericEventArguments) -> None:
        # The message is shown once, in the log's status bar; the field only turns red, with no
        # text below it, so the toolbar keeps its height while a pattern is being typed.
        self.text_input.props["error"] = True if event.args.get("message") else None
        self.text_input.update()

    def _on_highlight_errors(self, event: events.GenericEventArguments) -> None:
        positions = event.args.get("rules") if isinstance(event.args, dict) else None
        self.highlights.mark_errors({p for p in positions or [] if isinstance(p, int)})

    def _on_key(self, event: events.GenericEventArguments) -> None:
        # "/" is handled in the page (log_view.js): it focuses the filter field at once.
        if event.args.get("key") == "Escape":
            self._clear_text()

    def show_stream(self, short: str, shown: bool) -> None:
        """Show or hide the rows of a merged view's stream (by its short key), as its chip says."""
        self._apply(hidden_streams=_hidden_after(self.filter.hidden_streams, short, shown))

    def _on_paused(self, event: events.GenericEventArguments) -> None:
        paused = event.args.get("paused") if isinstance(event.args, dict) else None
        if isinstance(paused, bool):
            self.show_paused(paused)

    def show_paused(self, paused: bool) -> None:
        """Show on the Pause button whether the view is paused: the page pauses and resumes itself, and says so."""
        self.paused = paused
        self.pause_button.text = "Resume" if paused else "Pause"
        self.pause_button.props(f"icon={'play_arrow' if paused else 'pause'}")

    def _on_strip(self, event: events.GenericEventArguments) -> None:
        shown = event.args.get("shown") if isinstance(event.args, dict) else None
        if isinstance(shown, bool):
            self._apply(strip=shown)  # the view shows or hides it itself; the URL keeps the choice

    def _on_columns(self, event: events.GenericEventArguments) -> None:
        columns = event.args.get("columns") if isinstance(event.args, dict) else None
        if isinstance(columns, list):
            self._apply(columns=columns)  # the view shows them itself; the URL keeps them

    def _clear_rows(self) -> None:
        if self.view is not None:
            self.view.clear_rows()

    def _download(self, file_format: str) -> None:
        if self.view is not None:
            self.view.download("ndjson" if file_format == "ndjson" else "log")

    def _cycle_theme(self) -> None:
        value = _THEME_CYCLE[self.dark.value]
        self._show_theme(value)
        # Remembered by this browser; read back when the next page opens.
        ui.run_javascript(f"localStorage.setItem('bunnylogs-theme', {_js_theme(value)})")

    async def restore_theme(self) -> None:
        """Apply the theme this browser chose last time (call once the page is connected).

        A browser that does not answer in time keeps the system theme.
        """
        if self.dark.is_deleted:  # the page went away before it connected
            return
        try:
            stored = await self.dark.client.run_javascript("localStorage.getItem('bunnylogs-theme')",
                                                           timeout=_THEME_ANSWER_TIMEOUT_S)
        except TimeoutError:
            return
        value = {"dark": True, "light": False}.get(str(stored))
        if value is not None and not self.dark.is_deleted:
            self._show_theme(value)

    def _show_theme(self, value: bool | None) -> None:
        self.dark.value = value
        self.theme_button.props(f"icon={_THEME_ICONS[value]}")
        self.theme_button.props["aria-label"] = _THEME_NAMES[value]
        self.theme_button.update()
        self.theme_tooltip.text = _THEME_NAMES[value]


def _hidden_after(hidden: Iterable[str], name: str, shown: bool) -> set[str]:
    """What is hidden once `name` is shown (or hidden)."""
    return set(hidden) - {name} if shown else {*hidden, name}


def _aria_bool(value: bool) -> str:
    return "true" if value else "false"


def _js_theme(value: bool | None) -> str:
    return {None: "'auto'", True: "'dark'", False: "'light'"}[value]


def _program_options(names: Iterable[str]) -> dict[str, str]:
    """The programs to choose from, by name, as they read: sorted, with control and bidi characters
    shown escaped as in the rows (a name like `admin\u202egpj.exe` must not read as `adminexe.jpg`)."""
    return {name: printable(name) for name in sorted(names, key=str.lower)}
