// The browser half of LogView: holds the rows, filters them, and draws only the ones in view.
// Log text is data: every value is set with textContent, never parsed as HTML.
//
// Rows arrive in batches (append); they are drawn at once when the stream is quiet, else at most once per animation frame. Only the rows
// in and near the viewport exist in the DOM ("virtualised"): collapsed rows have one fixed height,
// and the few expanded rows have their measured extra height, so positions are cheap to compute.

import { listenForRows } from "rows_feed";

const CONNECTION_POLL_MS = 250;
const RATE_WINDOW_MS = 5000;
const STATUS_EVERY_MS = 500;
const OVERSCAN_ROWS = 8;
const AT_BOTTOM_PX = 4;
const FRAME_MS = 16;
// While lines keep coming the status texts change at most this often: each change lays out the page.
const BUSY_STATUS_MS = 100;
const NUMBER = new Intl.NumberFormat();  // toLocaleString() builds a formatter on every call

function pad(number, width) {
  return String(number).padStart(width, "0");
}

export function formatTime(date, utc) {
  const [h, m, s, ms] = utc
    ? [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()]
    : [date.getHours(), date.getMinutes(), date.getSeconds(), date.getMilliseconds()];
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(ms, 3)}${utc ? "Z" : ""}`;
}

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// The line as text, for copying and for the .log download.
function asLogLine(entry) {
  const fields = entry.fields ? " " + JSON.stringify(entry.fields) : "";
  return `${new Date(entry.ts * 1000).toISOString()} ${entry.level} ${entry.program} ${entry.message}${fields}`;
}

function asWire(entry) {
  const wire = { id: entry.id, ts: entry.ts, level: entry.level, program: entry.program, message: entry.message };
  if (entry.fields) wire.fields = entry.fields;
  return wire;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain HTTP on another host has no clipboard API: the old way still works.
  const area = el("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

function isTyping(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
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
      </div>
      <div ref="scroller" class="bl-scroller" tabindex="0">
        <div ref="empty" class="bl-empty">Waiting for the first line…</div>
        <div ref="sizer" class="bl-sizer"><div ref="rows" class="bl-rows"></div></div>
      </div>
      <button ref="jump" class="bl-jump" type="button" hidden>Jump to latest ↓</button>
    </div>`,
  props: {
    maxRows: { type: Number, default: 10000 },
    filter: { type: Object, default: () => ({}) },
    utc: { type: Boolean, default: false },
    streamName: { type: String, default: "stream" },
    feed: { type: Object, required: true },  // RowsFeed.address
  },
  mounted() {
    this.all = [];          // held entries, oldest first, at most maxRows
    this.shown = [];        // the held entries that pass the filter, in order
    this.incoming = [];     // arrived since the last frame
    this.pending = [];      // arrived while paused
    this.pendingTotal = 0;
    this.received = 0;
    this.arrivals = [];     // [time, count] for the rate
    this.serial = 0;        // arrival order: IDs arrive in order, so this sorts like them
    this.expanded = new Map(); // serial -> extra height in px
    this.programsSeen = new Set();
    this.levelsSeen = new Set();
    this.paused = false;
    this.following = true;
    this.useUtc = this.utc;
    this.frame = null;
    this.lastFlush = -Infinity;
    this.rowHeight = this.measureRowHeight();
    this.viewHeight = this.$refs.scroller.clientHeight;
    this.ownScrollTop = null;  // where render() last scrolled to while following
    this.lastStatus = -Infinity;
    this.statusTimeout = null;
    this.resizeObserver = new ResizeObserver(() => {
      this.viewHeight = this.$refs.scroller.clientHeight;
      this.requestRender();
    });
    this.resizeObserver.observe(this.$refs.scroller);
    this.onVisibility = () => { if (!document.hidden && this.incoming.length) this.schedule(); };
    document.addEventListener("visibilitychange", this.onVisibility);
    this.setFilter(this.filter);
    this.$refs.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.$refs.jump.addEventListener("click", () => this.follow());
    this.$refs.rows.addEventListener("click", (event) => this.onRowClick(event));
    this.onKey = (event) => this.handleKey(event);
    document.addEventListener("keydown", this.onKey);
    this.connectionTimer = setInterval(() => this.showConnection(), CONNECTION_POLL_MS);
    this.statusTimer = setInterval(() => this.showStatus(), STATUS_EVERY_MS);
    this.showConnection();
    this.showStatus();
    this.stopRows = listenForRows(this.feed, (entries) => this.append(entries));
  },
  unmounted() {
    this.stopRows();
    clearInterval(this.connectionTimer);
    clearInterval(this.statusTimer);
    document.removeEventListener("keydown", this.onKey);
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.resizeObserver.disconnect();
    clearTimeout(this.statusTimeout);
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    if (this.renderFrame) cancelAnimationFrame(this.renderFrame);
  },
  methods: {
    // --- called from Python -------------------------------------------------------------------
    // (append is called with each batch from the rows feed)
    append(entries) {
      const now = performance.now();
      this.received += entries.length;
      this.arrivals.push([now, entries.length]);
      for (const entry of entries) this.incoming.push(entry);
      // A hidden tab gets no animation frames: keep only what could ever be shown.
      if (this.incoming.length > this.maxRows) this.incoming.splice(0, this.incoming.length - this.maxRows);
      this.schedule();
    },
    setFilter(filter) {
      const text = filter.text || "";
      this.filterError = null;
      let test = null;
      if (text && filter.regex) {
        try {
          const pattern = new RegExp(text, "i");
          test = (entry) => pattern.test(this.haystack(entry));
        } catch (error) {
          this.filterError = `Invalid regular expression: ${error.message}`;
        }
      } else if (text) {
        const needle = text.toLowerCase();
        test = (entry) => this.haystack(entry).toLowerCase().includes(needle);
      }
      this.textTest = test;
      this.invert = Boolean(filter.invert);
      this.hiddenLevels = new Set(filter.hidden_levels || []);
      this.programs = new Set(filter.programs || []);
      this.$emit("filter_error", { message: this.filterError });
      this.shown = this.all.filter((entry) => this.matches(entry));
      this.render();
      this.showStatus();
    },
    setPaused(paused) {
      this.paused = paused;
      if (!paused && this.pending.length) {
        this.incoming = this.pending.concat(this.incoming);
        this.pending = [];
        this.pendingTotal = 0;
        this.schedule();
      }
      this.showStatus();
    },
    clear() {
      this.all = [];
      this.shown = [];
      this.incoming = [];
      this.pending = [];
      this.pendingTotal = 0;
      this.expanded.clear();
      this.following = true;
      this.render();
      this.showStatus();
    },
    follow() {
      this.following = true;
      this.$refs.jump.hidden = true;
      this.render();
    },
    setUtc(utc) {
      this.useUtc = utc;
      this.render();
    },
    download(format) {
      const lines = format === "ndjson"
        ? this.shown.map((entry) => JSON.stringify(asWire(entry)))
        : this.shown.map(asLogLine);
      const blob = new Blob([lines.join("\n") + (lines.length ? "\n" : "")],
        { type: format === "ndjson" ? "application/x-ndjson" : "text/plain" });
      const link = el("a");
      link.href = URL.createObjectURL(blob);
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      link.download = `${this.streamName}-${stamp}.${format === "ndjson" ? "ndjson" : "log"}`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    },
    // --- state ----------------------------------------------------------------------------------
    haystack(entry) {
      if (entry._hay === undefined) {
        entry._hay = entry.fields ? `${entry.message} ${JSON.stringify(entry.fields)}` : entry.message;
      }
      return entry._hay;
    },
    matches(entry) {
      if (this.hiddenLevels.has(entry.level)) return false;
      if (this.programs.size && !this.programs.has(entry.program)) return false;
      if (this.textTest === null) return true;
      return this.textTest(entry) !== this.invert;
    },
    // A quiet stream's line is drawn the moment it arrives; while lines keep coming, at most once a
    // frame. A hidden tab draws nothing until it is shown again.
    schedule() {
      if (this.frame !== null) return;
      if (document.hidden) return;
      if (performance.now() - this.lastFlush >= FRAME_MS) this.flush();
      else this.frame = requestAnimationFrame(() => { this.frame = null; this.flush(); });
    },
    flush() {
      this.lastFlush = performance.now();
      let batch = this.incoming;
      this.incoming = [];
      if (this.paused) {
        this.pendingTotal += batch.length;
        this.pending.push(...batch);
        if (this.pending.length > this.maxRows) this.pending.splice(0, this.pending.length - this.maxRows);
        this.requestStatus();
        return;
      }
      if (!batch.length) return;
      const newPrograms = [];
      const newLevels = [];
      for (const entry of batch) {
        entry._n = ++this.serial;
        if (!this.programsSeen.has(entry.program)) { this.programsSeen.add(entry.program); newPrograms.push(entry.program); }
        if (!this.levelsSeen.has(entry.level)) { this.levelsSeen.add(entry.level); newLevels.push(entry.level); }
      }
      if (newPrograms.length || newLevels.length) this.$emit("seen", { programs: newPrograms, levels: newLevels });
      this.all.push(...batch);
      for (const entry of batch) if (this.matches(entry)) this.shown.push(entry);
      const excess = this.all.length - this.maxRows;
      if (excess > 0) {
        const dropped = this.all.splice(0, excess);
        const oldestKept = this.all[0]._n;
        let cut = 0;
        while (cut < this.shown.length && this.shown[cut]._n < oldestKept) cut++;
        if (cut) this.shown.splice(0, cut);
        for (const entry of dropped) this.expanded.delete(entry._n);
      }
      this.render();
      this.requestStatus();
    },
    // --- drawing --------------------------------------------------------------------------------
    measureRowHeight() {
      const probe = this.renderRow({ ts: 0, level: "INFO", program: "p", message: "x", id: "0-0", _n: 0 });
      probe.style.visibility = "hidden";
      this.$refs.rows.append(probe);
      const height = probe.getBoundingClientRect().height || 22;
      probe.remove();
      return height;
    },
    // The expanded rows among those shown, by position: [index, extra px], in order.
    expandedPositions() {
      const positions = [];
      for (const [serial, extra] of this.expanded) {
        const index = this.indexOfSerial(serial);
        if (index >= 0) positions.push([index, extra]);
      }
      return positions.sort((a, b) => a[0] - b[0]);
    },
    indexOfSerial(serial) {
      let low = 0;
      let high = this.shown.length - 1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        const found = this.shown[middle]._n;
        if (found === serial) return middle;
        if (found < serial) low = middle + 1; else high = middle - 1;
      }
      return -1;
    },
    // While following, the scroll position is computed rather than read, and set after the rows
    // are in place: one layout per frame instead of one per read.
    render() {
      const scroller = this.$refs.scroller;
      const positions = this.expandedPositions();
      const height = this.rowHeight;
      const extraTotal = positions.reduce((sum, [, extra]) => sum + extra, 0);
      const contentHeight = this.shown.length * height + extraTotal;
      const top = this.following ? Math.max(0, contentHeight - this.viewHeight) : scroller.scrollTop;
      // First row in view: walk past the expanded rows above the scroll position.
      let offset = 0;
      let first = Math.floor(top / height);
      for (const [index, extra] of positions) {
        if (index * height + offset + height + extra <= top) { offset += extra; first = Math.floor((top - offset) / height); }
        else break;
      }
      first = Math.max(0, Math.min(first, this.shown.length - 1) - OVERSCAN_ROWS);
      const visibleCount = Math.ceil(this.viewHeight / height) + 2 * OVERSCAN_ROWS;
      const last = Math.min(this.shown.length, first + visibleCount);
      let before = 0;
      for (const [index, extra] of positions) { if (index < first) before += extra; else break; }
      this.$refs.sizer.style.height = `${contentHeight}px`;
      this.$refs.rows.style.transform = `translateY(${first * height + before}px)`;
      this.updateRows(this.shown.slice(first, last));
      if (this.following) {
        scroller.scrollTop = top;
        this.ownScrollTop = scroller.scrollTop;
      }
      this.remeasureExpanded();
    },
    // Show `wanted` (consecutive shown entries), keeping the row elements already on screen: while
    // following, each frame only adds the new rows at the bottom and drops as many from the top.
    updateRows(wanted) {
      const rows = this.$refs.rows;
      const look = (entry) => `${this.useUtc ? "u" : "l"}${this.expanded.has(entry._n) ? "o" : "c"}`;
      const serialOf = (node) => Number(node.dataset.serial);
      const firstWanted = wanted.length ? wanted[0]._n : Infinity;
      const lastWanted = wanted.length ? wanted[wanted.length - 1]._n : -Infinity;
      while (rows.firstElementChild && serialOf(rows.firstElementChild) < firstWanted) rows.firstElementChild.remove();
      while (rows.lastElementChild && serialOf(rows.lastElementChild) > lastWanted) rows.lastElementChild.remove();
      const kept = Array.from(rows.children);
      const start = kept.length ? wanted.findIndex((entry) => entry._n === serialOf(kept[0])) : -1;
      const reusable = start >= 0 && kept.every((node, i) =>
        wanted[start + i] !== undefined && wanted[start + i]._n === serialOf(node) && node.dataset.look === look(wanted[start + i]));
      const build = (entries) => {
        const fragment = document.createDocumentFragment();
        for (const entry of entries) {
          const row = this.renderRow(entry);
          row.dataset.look = look(entry);
          fragment.append(row);
        }
        return fragment;
      };
      if (!reusable) {
        rows.replaceChildren(build(wanted));
        return;
      }
      if (start > 0) rows.prepend(build(wanted.slice(0, start)));
      if (start + kept.length < wanted.length) rows.append(build(wanted.slice(start + kept.length)));
    },
    remeasureExpanded() {
      let changed = false;
      for (const row of this.$refs.rows.querySelectorAll(".bl-row.bl-open")) {
        const serial = Number(row.dataset.serial);
        const extra = Math.max(0, row.getBoundingClientRect().height - this.rowHeight);
        if (Math.abs((this.expanded.get(serial) ?? 0) - extra) > 0.5) { this.expanded.set(serial, extra); changed = true; }
      }
      if (changed) this.requestRender();
    },
    requestRender() {
      if (this.renderFrame) return;
      this.renderFrame = requestAnimationFrame(() => { this.renderFrame = null; this.render(); });
    },
    renderRow(entry) {
      const open = this.expanded.has(entry._n);
      const row = el("div", open ? "bl-row bl-open" : "bl-row");
      row.dataset.id = entry.id;
      row.dataset.serial = entry._n;
      row.dataset.level = entry.level;
      const moment = new Date(entry.ts * 1000);
      const time = el("span", "bl-time", formatTime(moment, this.useUtc));
      time.title = moment.toISOString();
      const newline = entry.message.indexOf("\n");
      const multiLine = newline >= 0;
      const expandable = multiLine || Boolean(entry.fields) || entry.message.length > 120;
      const toggle = el("span", "bl-toggle", expandable ? (open ? "▾" : "▸") : "");
      const message = el("span", "bl-message", open || !multiLine ? entry.message : entry.message.slice(0, newline));
      const line = el("div", "bl-line");
      line.append(toggle, time, el("span", `bl-level bl-level-${entry.level.toLowerCase()}`, entry.level),
        el("span", "bl-program", entry.program), message);
      if (multiLine && !open) line.append(el("span", "bl-more", `+${entry.message.split("\n").length - 1} lines`));
      if (entry.fields && !open) line.append(el("span", "bl-fields", "{…}"));
      const copy = el("button", "bl-copy material-icons", "content_copy");
      copy.type = "button";
      copy.title = "Copy this line";
      line.append(copy);
      row.append(line);
      if (open && entry.fields) row.append(el("pre", "bl-fields-json", JSON.stringify(entry.fields, null, 2)));
      if (expandable) row.classList.add("bl-expandable");
      return row;
    },
    onRowClick(event) {
      const row = event.target.closest(".bl-row");
      if (!row) return;
      const serial = Number(row.dataset.serial);
      const entry = this.shown[this.indexOfSerial(serial)];
      if (!entry) return;
      if (event.target.closest(".bl-copy")) {
        const button = event.target.closest(".bl-copy");
        copyText(asLogLine(entry)).then(() => {
          button.textContent = "done";
          setTimeout(() => { button.textContent = "content_copy"; }, 1200);
        });
        return;
      }
      if (!row.classList.contains("bl-expandable") || window.getSelection().toString()) return;
      if (this.expanded.has(serial)) this.expanded.delete(serial); else this.expanded.set(serial, 0);
      this.render();
    },
    onScroll() {
      const scroller = this.$refs.scroller;
      // Our own scrolling while following (render already drew for it), not the user's.
      if (this.following && this.ownScrollTop !== null && Math.abs(scroller.scrollTop - this.ownScrollTop) < 1) return;
      const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < AT_BOTTOM_PX;
      this.following = atBottom;
      this.$refs.jump.hidden = atBottom || this.shown.length === 0;
      this.requestRender();
    },
    handleKey(event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "Escape") { this.$emit("key", { key: "Escape" }); return; }
      if (isTyping(event.target)) return;
      if (event.key === " " && !(event.target instanceof HTMLButtonElement)) {
        event.preventDefault();
        this.$emit("key", { key: "Space" });
      } else if (event.key === "/") {
        event.preventDefault();
        this.$emit("key", { key: "/" });
      } else if (event.key === "End") {
        event.preventDefault();
        this.follow();
      }
    },
    // --- status ---------------------------------------------------------------------------------
    // The status now when the stream is quiet; while lines keep coming, at most every BUSY_STATUS_MS.
    requestStatus() {
      if (this.statusTimeout !== null) return;
      const wait = this.lastStatus + BUSY_STATUS_MS - performance.now();
      if (wait <= 0) { this.showStatus(); return; }
      this.statusTimeout = setTimeout(() => { this.statusTimeout = null; this.showStatus(); }, wait);
    },
    showStatus() {
      this.lastStatus = performance.now();
      const now = performance.now();
      while (this.arrivals.length && now - this.arrivals[0][0] > RATE_WINDOW_MS) this.arrivals.shift();
      const recent = this.arrivals.reduce((sum, [, count]) => sum + count, 0);
      const span = Math.min(RATE_WINDOW_MS, Math.max(1000, now - (this.arrivals.length ? this.arrivals[0][0] : now)));
      const rate = recent / (span / 1000);
      this.$refs.count.textContent = `${NUMBER.format(this.received)} line${this.received === 1 ? "" : "s"}`;
      this.$refs.shown.textContent = `${NUMBER.format(this.shown.length)} shown`;
      this.$refs.rate.textContent = `${rate < 10 ? rate.toFixed(1) : NUMBER.format(Math.round(rate))} lines/s`;
      const paused = this.$refs.paused;
      paused.hidden = !this.paused;
      paused.textContent = `paused · ${NUMBER.format(this.pendingTotal)} new`;
      const error = this.$refs.filterError;
      error.hidden = !this.filterError;
      error.textContent = this.filterError || "";
      this.$refs.empty.hidden = this.received > 0;
    },
    showConnection() {
      const socket = window.socket;
      const state = socket === undefined ? "connecting" : socket.connected ? "connected" : "reconnecting";
      const label = this.$refs.state;
      if (label.dataset.state === state) return;
      label.dataset.state = state;
      label.textContent = state === "connecting" ? "connecting…" : state;
    },
  },
};
