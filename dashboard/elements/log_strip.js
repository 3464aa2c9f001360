// The volume strip above the rows: one <canvas> of bars, lines per interval (as they arrived at the
// server) over every row held, older lines loaded at the top included, stacked by level group; the
// lines the filter shows bright, the rest faint. Drawn at most every DRAW_EVERY_MS as rows come (the
// counts are kept by log_volume), in the theme's colours (CSS custom properties). A click on a bar, or
// Enter on the bar chosen with the arrow keys, scrolls the list to the first row shown from that
// interval on and pauses the view. The hover tip and the bar's accessible text are set as text, and say
// only times and numbers; `data-bars` on the canvas holds the bars drawn, as JSON, for tests and tools.
import { GROUPS, VolumeCounts, barCounts, firstAtOrAfter } from "log_volume";
import { formatTime } from "log_row_element";

const DRAW_EVERY_MS = 250;
const MIN_BAR_PX = 6;
const MAX_BARS = 120;
const MIN_BARS = 10;
// Few bars are drawn wider: as if there were at least this many (the newest at the right edge).
const MIN_SLOTS = 30;
const FAINT = 0.3;
const NUMBER = new Intl.NumberFormat();
const TOGGLE_LABELS = { true: "Hide the volume strip", false: "Show the volume strip (lines per interval)" };
const LABEL = "Lines per interval by level, bright: shown by the filter, faint: hidden by it. "
  + "Arrow keys choose a bar, Enter shows its lines.";

function el(tag, className) {
  const element = document.createElement(tag);
  element.className = className;
  return element;
}

// "3 error · 1 warning · 12 info", with "(5 of 16 shown)" when the filter hides some.
function countsText({ held, shown }) {
  const parts = GROUPS.map((name, group) => [name, held[group]]).filter(([, count]) => count > 0)
    .map(([name, count]) => `${NUMBER.format(count)} ${name}`);
  const total = held.reduce((sum, count) => sum + count, 0);
  const matching = shown.reduce((sum, count) => sum + count, 0);
  const text = parts.length ? parts.join(" · ") : "no lines";
  return matching === total ? text : `${text} (${NUMBER.format(matching)} of ${NUMBER.format(total)} shown)`;
}

function timeText(ms, utc, withDate) {
  return formatTime(new Date(ms), utc, withDate).replace(".000", "");
}

export class VolumeStrip {
  // The elements are the component's refs (strip: empty); logRows (a LogRows) holds the rows, list (a
  // VirtualList) shows them; levelGroups as VolumeCounts takes them; pause() pauses the view, and
  // toggled(shown) is told when the reader hid or showed the strip.
  constructor({ strip: box, stripToggle: toggle }, logRows, list, { levelGroups, utc, shown, pause, toggled }) {
    this.box = box;
    this.toggle = toggle;
    this.logRows = logRows;
    this.list = list;
    this.utc = utc;
    this.pause = pause;
    this.counts = new VolumeCounts(logRows, levelGroups);
    this.canvas = el("canvas", "bl-strip-canvas");
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("role", "slider");
    this.canvas.setAttribute("aria-label", LABEL);
    this.tip = el("div", "bl-strip-tip");
    this.tip.setAttribute("role", "tooltip");
    this.tip.hidden = true;
    box.append(this.canvas, this.tip);
    this.drawn = { step: 1, bars: [], slot: 0, offset: 0 };
    this.chosen = null;  // the bar chosen with the keys, by its start (ms); null: the newest
    this.hovered = null;
    this.timeout = null;
    this.frame = null;
    this.lastDrawn = -Infinity;
    this.canvas.addEventListener("click", (event) => this.go(this.barAt(event.offsetX)));
    this.canvas.addEventListener("mousemove", (event) => { this.hovered = this.barAt(event.offsetX); this.showTip(); });
    this.canvas.addEventListener("mouseleave", () => { this.hovered = null; this.showTip(); });
    this.canvas.addEventListener("keydown", (event) => this.onKey(event));
    toggle.addEventListener("click", () => {
      this.setShown(this.box.hidden);
      toggled(!this.box.hidden);
    });
    this.canvas.addEventListener("focus", () => this.draw());  // the chosen bar is outlined while focused
    this.canvas.addEventListener("blur", () => this.draw());
    this.resizeObserver = new ResizeObserver(() => this.request());
    this.resizeObserver.observe(this.canvas);
    this.themeObserver = new MutationObserver(() => this.request());  // Quasar's dark mode is a class on <body>
    this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ["class"] });
    this.setShown(shown);
  }

  stop() {
    this.resizeObserver.disconnect();
    this.themeObserver.disconnect();
    clearTimeout(this.timeout);
    if (this.frame !== null) cancelAnimationFrame(this.frame);
  }

  // --- told by the view ---------------------------------------------------------------------------
  setShown(shown) {
    this.box.hidden = !shown;
    this.toggle.setAttribute("aria-pressed", String(shown));
    this.toggle.title = TOGGLE_LABELS[shown];
    this.toggle.setAttribute("aria-label", TOGGLE_LABELS[shown]);
    if (shown) this.counts.recount();  // rows left unseen while it was hidden
    this.request();
  }

  setUtc(utc) {
    this.utc = utc;
    this.showTip();
  }

  // Rows were admitted, and these left under the row cap.
  admitted(dropped) {
    if (!this.box.hidden && dropped.length) this.counts.dropped(dropped);
    this.requestWithRows();
  }

  // The filter changed: what is shown of each bar is counted again.
  refilter() {
    if (!this.box.hidden) this.counts.recount();
    this.request();
  }

  // Draw now when the last draw was a while ago, else once that while is over.
  request() {
    if (this.timeout !== null || this.box.hidden) return;
    const wait = Math.max(0, this.lastDrawn + DRAW_EVERY_MS - performance.now());
    this.timeout = setTimeout(() => { this.timeout = null; this.draw(); }, wait);
  }

  // Rows came: drawn in the frame that draws them when the last draw was a while ago (a draw of its own
  // is a frame of its own). Rows that come before then leave it to the next rows that come after; if
  // none come, a timer draws DRAW_EVERY_MS late.
  requestWithRows() {
    if (this.frame !== null || this.box.hidden) return;
    const wait = this.lastDrawn + DRAW_EVERY_MS - performance.now();
    if (wait <= 0) this.frame = requestAnimationFrame(() => { this.frame = null; this.draw(); });
    else if (this.timeout === null) this.timeout = setTimeout(() => { this.timeout = null; this.draw(); }, wait + DRAW_EVERY_MS);
  }

  // --- drawing ------------------------------------------------------------------------------------
  draw() {
    if (document.hidden) { this.request(); return; }
    clearTimeout(this.timeout);
    this.timeout = null;
    this.lastDrawn = performance.now();
    this.counts.sync();
    const canvas = this.canvas;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;  // hidden by the window's height (CSS)
    const maxBars = Math.max(MIN_BARS, Math.min(MAX_BARS, Math.floor(width / MIN_BAR_PX)));
    const { step, bars } = this.counts.bars(maxBars);
    const slots = Math.min(maxBars, Math.max(MIN_SLOTS, bars.length));
    const slot = width / slots;
    this.drawn = { step, bars, slot, offset: slots - bars.length };
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const style = getComputedStyle(this.box);
    const colours = GROUPS.map((name) => style.getPropertyValue(`--bl-strip-${name}`).trim() || "#94a3b8");
    const peak = bars.reduce((most, bar) => Math.max(most, bar.counts[0] + bar.counts[1] + bar.counts[2] + bar.counts[3]), 0);
    const scale = peak ? (height - 1) / peak : 0;
    const gap = slot > 3 ? 1 : 0;
    bars.forEach((bar, i) => {
      const x = (this.drawn.offset + i) * slot;
      for (const [part, alpha] of [[0, FAINT], [GROUPS.length, 1]]) {  // all held faint, those shown bright over them
        let y = height;
        context.globalAlpha = alpha;
        GROUPS.forEach((_, group) => {
          const size = bar.counts[part + group] * scale;
          if (!size) return;
          context.fillStyle = colours[group];
          context.fillRect(x, y - Math.max(size, 1), slot - gap, Math.max(size, 1));
          y -= size;
        });
      }
    });
    context.globalAlpha = 1;
    const chosen = this.chosenIndex();
    if (chosen !== null && document.activeElement === canvas) {
      context.strokeStyle = style.getPropertyValue("--bl-strip-focus").trim() || "#0f172a";
      context.strokeRect((this.drawn.offset + chosen) * slot + 0.5, 0.5, slot - gap - 1, height - 1);
    }
    this.describe();
  }

  // The canvas's accessible value (the chosen bar), and its bars as data.
  describe() {
    const { step, bars, slot, offset } = this.drawn;
    const canvas = this.canvas;
    const chosen = this.chosenIndex();
    canvas.setAttribute("aria-valuemin", "0");
    canvas.setAttribute("aria-valuemax", String(Math.max(0, bars.length - 1)));
    canvas.setAttribute("aria-valuenow", String(chosen ?? 0));
    canvas.setAttribute("aria-valuetext", chosen === null ? "no lines" : this.barText(bars[chosen]));
    canvas.dataset.bars = JSON.stringify({
      step,
      bars: bars.map((bar, i) => ({ start: bar.start, x: (offset + i + 0.5) * slot, ...barCounts(bar.counts) }))
        .filter((bar) => bar.held.some((count) => count > 0)),
    });
    this.showTip();
  }

  barText(bar) {
    const step = this.drawn.step;
    const withDate = step >= 3600;
    const range = `${timeText(bar.start, this.utc, withDate)}–${timeText(bar.start + step * 1000, this.utc, withDate)}`;
    return `${range}: ${countsText(barCounts(bar.counts))}`;
  }

  // The tip over the bar hovered, or over the one chosen with the keys while the strip has the focus.
  showTip() {
    const bars = this.drawn.bars;
    const focused = document.activeElement === this.canvas;
    const index = this.hovered ?? (focused ? this.chosenIndex() : null);
    const bar = index === null ? undefined : bars[index];
    this.tip.hidden = bar === undefined;
    if (bar === undefined) return;
    this.tip.textContent = this.barText(bar);
    const x = (this.drawn.offset + index + 0.5) * this.drawn.slot;
    this.tip.style.left = `${Math.round(Math.min(Math.max(0, x - this.tip.offsetWidth / 2),
      this.box.clientWidth - this.tip.offsetWidth))}px`;
  }

  // --- choosing -----------------------------------------------------------------------------------
  barAt(x) {
    const index = Math.floor(x / this.drawn.slot) - this.drawn.offset;
    return index >= 0 && index < this.drawn.bars.length ? index : null;
  }

  chosenIndex() {
    const bars = this.drawn.bars;
    if (!bars.length) return null;
    if (this.chosen === null) return bars.length - 1;
    const index = bars.findIndex((bar) => bar.start >= this.chosen);
    return index < 0 ? bars.length - 1 : index;
  }

  onKey(event) {
    const bars = this.drawn.bars;
    const now = this.chosenIndex();
    if (now === null) return;
    const moves = { ArrowLeft: now - 1, ArrowRight: now + 1, Home: 0, End: bars.length - 1, PageUp: now - 10, PageDown: now + 10 };
    if (event.key in moves) {
      this.chosen = bars[Math.max(0, Math.min(bars.length - 1, moves[event.key]))].start;
      this.draw();
    } else if (event.key === "Enter" || event.key === " ") {
      this.go(now);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();  // the page's own keys (Home, End, Space) are not for the strip's
  }

  // Scroll the list to the first row shown from the bar's interval on, and pause the view.
  go(index) {
    const bar = index === null ? undefined : this.drawn.bars[index];
    if (bar === undefined) return;
    const shown = this.logRows.shown;
    const entry = shown[firstAtOrAfter(shown, bar.start)];
    if (entry === undefined) return;
    this.pause();
    const list = this.list;
    const top = list.rowTop(entry._n, list.expandedPositions());
    list.following = false;
    list.jump.hidden = false;
    list.render();  // the list's height first
    list.scroller.scrollTop = top;
    list.render();
  }
}
