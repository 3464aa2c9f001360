// The browser half of LogView: wires its parts together and answers the calls from Python.
// The parts, each a dependency of LogView (log_view.py): the rows transport (rows_feed), new rows'
// way in (log_intake), the row model (log_rows), the virtual list (log_list, drawing rows with log_row_element, which draws log
// text with log_text), highlights (log_highlight), keys and clicks (log_input), copy and download
// (log_export), the status bar (log_status), the lines older than those held (log_older) and the
// volume strip above the rows (log_strip, counting with log_volume), and the columns from fields
// (log_columns, with log_fields).
import { listenForRows } from "rows_feed";
import { LogRows, compareIds } from "log_rows";
import { VirtualList } from "log_list";
import { Highlighter } from "log_highlight";
import { listenForKeys, listenForRowClicks } from "log_input";
import { downloadRows } from "log_export";
import { StatusBar } from "log_status";
import { OlderLines } from "log_older";
import { withoutLineLink } from "log_link";
import { onLabelsChanged, renameMarks, setPageStreams } from "stream_labels";
import { VolumeStrip } from "log_strip";
import { ColumnBar } from "log_columns";
import { RowIntake } from "log_intake";
import { parseFilterText } from "log_fields";

// What this tab's view of this page held, kept across a reload (sessionStorage is per tab): the
// oldest row's ID. A reloaded page asks the server for the rows from there to its own first one.
const HELD_KEY = `bunnylogs-held:${location.pathname}`;
// The toolbar's text filter (viewer_controls.py), which "/" focuses.
const FILTER_INPUT = ".bl-filter-input input";

// NiceGUI's page hides everything after its "no ES modules" notice with `#esm-fallback ~ *`, and
// takes the notice away once modules load (before this module runs). The rule then matches nothing,
// but the browser still tries it on every element: a sibling rule that made each row dropped at the
// top of the list restyle every row below it. Taken out here, once.
function dropModuleFallbackRule() {
  for (const sheet of document.styleSheets) {
    try {
      const rules = sheet.cssRules;
      for (let i = rules.length - 1; i >= 0; i--) if (rules[i].selectorText === "#esm-fallback ~ *") sheet.deleteRule(i);
    } catch {
      // a sheet of another origin cannot be read: the rule is in the page's own
    }
  }
}
dropModuleFallbackRule();

// Whether the filter's text holds field conditions (`status=500`): plain mode only.
function hasFieldConditions(filter) {
  return !filter.regex && parseFilterText(filter.text || "").conditions.length > 0;
}

function readHeld() {
  try {
    const held = JSON.parse(sessionStorage.getItem(HELD_KEY));
    return held && typeof held.oldest === "string" ? held : null;
  } catch {
    return null;  // storage refused (privacy settings) or garbled: nothing to restore
  }
}

export default {
  template: `
    <div class="bl-log">
      <div class="bl-status">
        <span ref="state" class="bl-state" data-state="connecting">connecting…</span>
        <span ref="count" class="bl-count">0 lines</span>
        <span ref="shown" class="bl-shown"></span>
        <span ref="rate" class="bl-rate">0 lines/s</span>
        <span ref="paused" class="bl-paused" hidden></span>
        <span ref="filterError" class="bl-filter-error" hidden></span>
        <span ref="highlightError" class="bl-highlight-error" hidden></span>
        <span ref="history" class="bl-history" hidden></span>
        <button ref="searchAll" class="bl-search-all" type="button" hidden></button>
        <button ref="stripToggle" class="bl-strip-toggle" type="button"></button>
      </div>
      <div ref="strip" class="bl-strip" hidden></div>
      <div ref="columns" class="bl-columns" hidden></div>
      <div class="bl-older-place"><div ref="older" class="bl-older" role="status" hidden></div></div>
      <div ref="scroller" class="bl-scroller" tabindex="0">
        <div ref="empty" class="bl-empty">Waiting for the first line…</div>
        <div ref="sizer" class="bl-sizer"><div ref="rows" class="bl-rows" role="tree" aria-label="Log lines"></div></div>
      </div>
      <button ref="jump" class="bl-jump" type="button" hidden>Jump to latest ↓</button>
    </div>`,
  props: {
    maxRows: { type: Number, default: 10000 },
    filter: { type: Object, default: () => ({}) },
    highlights: { type: Array, default: () => [] },  // [{text, regex, colour}]: colour indexes the palette
    utc: { type: Boolean, default: false },
    streamName: { type: String, default: "stream" },
    linkPath: { type: String, required: true },  // the read-only address (a merged view's) links to a line use
    feed: { type: Object, required: true },  // RowsFeed.address
    anchor: { type: Object, default: null },  // {id, next}: opened at that line, paused (line_link.py)
    streams: { type: Array, default: () => [] },  // a merged view's: [{short, label_key, read_only}] (stream_labels)
    display: { type: Object, default: () => ({ strip: true, columns: [], maxColumns: 0, maxColumnChars: 0 }) },  // view_filter.py
    levelGroups: { type: Object, default: () => ({}) },  // {LEVEL: group} for the volume strip
  },
  mounted() {
    setPageStreams(this.streams);
    this.stopLabels = onLabelsChanged(() => renameMarks(this.$refs.rows));
    this.logRows = new LogRows(this.maxRows, (programs, levels) => this.$emit("seen", { programs, levels }));
    this.highlighter = new Highlighter({
      onMarks: (entries) => this.list.highlighted(entries),
      onErrors: () => this.highlightErrors(),
      onReset: () => this.list.highlightsChanged(),
    });
    this.rules = this.highlights;
    this.rulesInError = null;
    this.list = new VirtualList(this.$refs, this.logRows, this.highlighter, this.utc);
    this.list.merged = this.streams.length > 1;  // its rows carry a stream's mark
    this.statusBar = new StatusBar(this.$refs, this.logRows);
    this.older = new OlderLines(this.$refs, this.logRows, this.list,
      { maxRows: this.maxRows, ask: (ask) => this.$emit("older", ask) });
    this.strip = new VolumeStrip(this.$refs, this.logRows, this.list, {
      levelGroups: this.levelGroups, utc: this.utc, shown: this.display.strip,
      pause: () => { if (!this.logRows.paused) this.togglePause(); }, toggled: (shown) => this.$emit("strip", { shown }),
    });
    this.columns = new ColumnBar(this.$refs.columns, {
      columns: this.display.columns, max: this.display.maxColumns, maxChars: this.display.maxColumnChars,
      changed: (columns) => { this.list.setColumns(columns); this.$emit("columns", { columns }); },
    });
    if (this.columns.columns.length) this.list.setColumns(this.columns.columns);
    this.intake = new RowIntake(this);
    this.linked = this.anchor;  // until the reader resumes
    if (this.linked) {
      this.logRows.setPaused(true);
      this.list.following = false;
      this.list.marked = this.linked.id;
      this.older.around = true;
    }
    this.onVisibility = () => { if (!document.hidden && this.logRows.incoming.length) this.intake.schedule(); };
    document.addEventListener("visibilitychange", this.onVisibility);
    this.setFilter(this.filter);
    listenForRowClicks(this.$refs.rows, {
      entryOf: (serial) => this.logRows.entryOf(serial),
      toggle: (serial) => this.list.toggle(serial),
      linkPath: this.linkPath,
    });
    this.stopKeys = listenForKeys((key) => this.onKey(key));
    this.statusBar.start();
    this.older.start();
    this.heldBefore = readHeld();  // read before this page's own rows replace it
    this.saveHeld = () => this.rememberHeld();
    window.addEventListener("pagehide", this.saveHeld);
    this.onHidden = () => { if (document.hidden) this.rememberHeld(); };
    document.addEventListener("visibilitychange", this.onHidden);
    this.stopRows = listenForRows(this.feed,
      (entries, history, older) => (older ? this.prepend(entries) : this.intake.append(entries, history)),
      (resumeAt) => this.$emit("resume", resumeAt));
  },
  unmounted() {
    this.stopLabels();
    this.stopRows();
    this.highlighter.stop();
    this.stopKeys();
    this.statusBar.stop();
    this.older.stop();
    this.list.stop();
    this.strip.stop();
    this.columns.stop();
    document.removeEventListener("visibilitychange", this.onVisibility);
    document.removeEventListener("visibilitychange", this.onHidden);
    window.removeEventListener("pagehide", this.saveHeld);
    this.intake.stop();
  },
  methods: {
    // --- called from Python -------------------------------------------------------------------
    setFilter(filter) {
      const place = this.list.readerPlace();
      this.older.filterChanged(filter, hasFieldConditions(filter));
      this.logRows.setFilter(filter);
      if (this.logRows.filterError) this.older.filterRefused();
      this.$emit("filter_error", { message: this.logRows.filterError });
      this.filterNow = { ...filter, text: this.logRows.searchedText };  // marked: the text, not field conditions
      const rehighlight = this.highlighter.configure(this.filterNow, this.rules);
      this.highlightErrors();
      this.list.renderAtPlace(place);
      if (rehighlight) this.list.highlightsChanged();
      this.strip.refilter();
      this.statusBar.show();
    },
    // rules: [{text, regex, colour}], as highlights.
    setHighlights(rules) {
      this.rules = Array.isArray(rules) ? rules : [];
      if (this.highlighter.configure(this.filterNow, this.rules)) this.list.highlightsChanged();
      this.highlightErrors();
    },
    // Say which rules are turned off and why: in the status bar (the first), and to Python (their chips
    // turn red) when that changed.
    highlightErrors() {
      const errors = this.highlighter.errors;
      const first = errors[0];
      this.statusBar.setHighlightError(first === undefined ? null
        : first.rule >= 0 ? `Highlight rule ${first.rule + 1}: ${first.message}` : first.message);
      const rules = errors.map((error) => error.rule).filter((rule) => rule >= 0);
      if (String(rules) === String(this.rulesInError)) return;
      this.rulesInError = rules;
      this.$emit("highlight_errors", { rules });
    },
    // Pause or resume here and now, and tell the server (its button says which): rows that come
    // while the word goes to the server and back are already held.
    togglePause() {
      const paused = !this.logRows.paused;
      this.setPaused(paused);
      this.$emit("paused", { paused });
    },
    setPaused(paused) {
      if (!paused && this.linked) this.leaveLinkedLine();
      if (this.logRows.setPaused(paused)) this.intake.schedule();
      this.statusBar.show();
    },
    clear() {
      this.heldBefore = null;  // rows from before the reload would come back above nothing
      this.older.clear();
      this.logRows.clear();
      this.list.reset();
      this.list.render();
      this.strip.request();
      this.statusBar.show();
    },
    follow() {
      this.list.follow();
    },
    setBusAvailable(available) {
      this.statusBar.setBusAvailable(available);
    },
    setKept(kept, maxKept, newest) {
      this.older.setKept(kept, maxKept, newest);
    },
    olderDone(answer) {
      this.older.done(answer);
    },
    setUtc(utc) {
      this.list.setUtc(utc);
      this.strip.setUtc(utc);
    },
    download(format) {
      downloadRows(this.logRows.shown, format, this.streamName);
    },
    // What to ask the server for after a reload: {oldest}, the oldest row this tab held before it,
    // and {held, first}, how many it holds now and the first one's ID; null when nothing is missing.
    restoreRequest() {
      const before = this.heldBefore;
      const first = this.logRows.oldestId();
      const held = this.logRows.held();
      if (!before || first === null || held >= this.maxRows || compareIds(before.oldest, first) >= 0) return null;
      return { oldest: before.oldest, held, first };
    },
    // Space pauses or resumes; End follows; Home and PageUp go up, and ask for older lines at the top; "/"
    // goes to the toolbar's filter here and now (through the server, what was typed before its answer
    // came was lost, and a space paused the view); the rest are the page's.
    onKey(key) {
      if (key === "Space") this.togglePause();
      else if (key === "/") document.querySelector(FILTER_INPUT)?.focus();
      else if (key === "End") {
        this.bringIntoView();
        this.follow();
      }
      else if (key === "Home" || key === "PageUp") {
        this.bringIntoView();
        this.list.stopFollowing();
        this.older.key(key);
      }
      else this.$emit("key", { key });
    },
    // The log's keys are not the page's (End would have scrolled the page to its end): in a window too low
    // for the controls and the log together, where the page scrolls, they first bring the log whole into view.
    bringIntoView() {
      const box = this.$el.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight + 1) this.$el.scrollIntoView({ block: "end" });
    },
    // Resume after a link opened the page at a line: on to the live stream. The rows held go if
    // what waits does not follow them (more came than the server sent), so that no gap shows.
    leaveLinkedLine() {
      const { next } = this.linked;
      const first = this.logRows.pending[0] || this.logRows.incoming[0];
      this.linked = null;
      this.older.around = false;
      if (first && next !== null && first.id !== next) {
        this.list.forget(this.logRows.all);
        this.logRows.all = [];
        this.logRows.shown = [];
        this.older.dropped();
      }
      this.list.follow();
      history.replaceState(history.state, "", withoutLineLink(location.href));
    },
    // --- kept across a reload -------------------------------------------------------------------
    rememberHeld() {
      const oldest = this.logRows.oldestId();
      try {
        if (oldest === null) sessionStorage.removeItem(HELD_KEY);
        else sessionStorage.setItem(HELD_KEY, JSON.stringify({ oldest }));
      } catch {
        // storage full or refused: a reload then starts from the history alone
      }
    },
    // --- rows from the feed ---------------------------------------------------------------------
    // Rows older than every one held (what this tab held before a reload, or what the reader
    // scrolled up to), put above them.
    prepend(entries) {
      if (this.older.cleared) return;  // the viewer asked for an empty list
      this.columns.note(entries);
      const shown = this.logRows.prepend(entries);
      this.list.prepended(shown);
      this.strip.request();
      if (this.linked && !this.linked.shown) this.showLinkedLine();
      this.statusBar.show();
    },
    // The linked line in the middle of the view, once it came (the lines around it come newest first).
    showLinkedLine() {
      const entry = this.logRows.all.find((row) => row.id === this.linked.id);
      if (entry === undefined || this.logRows.indexOf(entry._n) < 0) return;
      this.linked.shown = true;
      this.list.showInMiddle(entry._n);
    },
  },
};
