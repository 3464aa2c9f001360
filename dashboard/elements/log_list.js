// The virtual list: only the shown rows in and near the viewport are in the DOM. Collapsed rows have
// one fixed height and the few open rows their measured extra height, so positions are cheap to
// compute. While following, the view sticks to the newest row; scrolling up stops that, and so does
// opening a row that would then start above the view (its head stays in view). Rows are drawn with
// the highlights known for them; those not known yet are asked for, and painted in when they come.
import { addRowButtons, nameRow, paintHighlight, renderRow, setButtonsTabbable, todaySpan } from "log_row_element";

const OVERSCAN_ROWS = 8;
// Rows are drawn in blocks of up to this many, each placed at its own top in the rows' layer (see
// updateRows).
const BLOCK_ROWS = 16;
// How far from the layer's start the first block may drift before all blocks are placed afresh (which
// puts it at 0). At the row cap every new line lowers each row's index by one: the layer moves up a
// row and the blocks go a row further down in it, without end. (Chromium lays out in fixed point up
// to about 33 million px, and composites in 32-bit floats: 1/16 px apart at 500,000 px.) The first
// block, not the last: an open row can itself be taller than this.
const MAX_BLOCK_TOP_PX = 500_000;
// Draws in a row after open rows were measured at new heights, before the rest waits for a frame.
const MAX_SETTLING_RENDERS = 4;
const AT_BOTTOM_PX = 4;
// Keys that scroll the focused log up, and how far a finger moves the rows down before that is a scroll.
const UP_KEYS = ["ArrowUp", "PageUp", "Home"];
const TOUCH_SLOP_PX = 8;
const STOPPED_FOR_MS = 300;
// For as long just after End or Jump to latest, a scroll that is not the view's own is the end of one the
// reader began before (see onScroll).
const FOLLOWED_FOR_MS = 300;
const TODAY_KEPT_MS = 60_000;
// A message keeps at least this many characters' width: columns from fields that would leave it less
// on the row's line go on a line of their own below it (the container's class bl-cols-below).
const MIN_MESSAGE_CHARS = 40;

export class VirtualList {
  // The elements are the component's refs; logRows (a LogRows) says which entries are shown, and
  // highlighter (a Highlighter) how they are highlighted.
  constructor({ scroller, sizer, rows, jump }, logRows, highlighter, utc) {
    this.scroller = scroller;
    this.sizer = sizer;
    this.container = rows;
    this.merged = false;  // set by the view: its rows carry a stream's mark
    this.jump = jump;
    this.logRows = logRows;
    this.highlighter = highlighter;
    this.utc = utc;
    this.expanded = new Map(); // serial -> extra height in px
    this.following = true;
    this.ownScrollTop = null;  // where the view last scrolled itself
    this.resized = false;      // the view was resized since render() last scrolled
    this.todayCache = undefined;  // {utc, start, end, at}: see today()
    this.touchY = 0;           // where the finger touching the log started
    this.stoppedAt = -Infinity;  // when the reader last scrolled up (stopFollowing)
    this.followedAt = -Infinity;  // when the reader last asked to follow (follow)
    this.opening = null;       // the serial of a row opened while following, until it is measured
    this.marked = null;        // the ID of the row a link opened the page at (log_link)
    this.columns = [];         // dotted paths of fields shown as columns (log_columns)
    this.columnsSet = 0;       // how many times they were set: rows drawn before are drawn again
    this.blocks = [];          // the rows drawn: [{element, serials, top (in the layer, px)}], in order (updateRows)
    this.drawnLook = null;
    this.layerOffset = null;   // where the rows' layer is moved to, in px (placeLayer)
    this.maxBlockTop = MAX_BLOCK_TOP_PX;
    this.opened = 0;           // counts the rows opened and closed: their look changed
    this.renderFrame = null;
    this.scrollFrame = null;   // a scroll to `scrollTarget` waiting for the next frame
    this.scrollTarget = 0;
    this.keptTop = null;       // the scroll position droppedAbove last set, to the fraction of a px
    this.keptScrollTop = null; // and what the browser made of it
    this.rowHeight = this.measureRowHeight();
    this.viewHeight = scroller.clientHeight;
    // Drawn again at once, before the frame is painted: the rows in each block have already taken their
    // new heights, and blocks placed for the old ones would overlap them, or leave gaps, for a frame.
    this.resizeObserver = new ResizeObserver(() => {
      this.resized = this.following;
      this.viewHeight = scroller.clientHeight;
      this.rowHeight = this.measureRowHeight();  // a narrow window lays rows out on more lines
      this.render();
    });
    this.resizeObserver.observe(scroller);
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    // The reader turning the wheel up, pressing a key up or dragging the rows down stops following at
    // once, before anything scrolls: a smooth scroll moves a few px a frame, still "at the bottom",
    // and the next draw's scroll to the newest row would cut it short.
    scroller.addEventListener("wheel", (event) => { if (event.deltaY < 0) this.stopFollowing(); }, { passive: true });
    scroller.addEventListener("keydown", (event) => { if (UP_KEYS.includes(event.key)) this.stopFollowing(); });
    scroller.addEventListener("keydown", (event) => this.moveFocus(event));
    scroller.addEventListener("touchstart", (event) => { this.touchY = event.touches[0].clientY; }, { passive: true });
    scroller.addEventListener("touchmove", (event) => {
      if (event.touches[0].clientY - this.touchY > TOUCH_SLOP_PX) this.stopFollowing();
    }, { passive: true });
    jump.addEventListener("click", () => this.follow());
    // A row's buttons are made when the pointer or the focus comes to it (addRowButtons); where there is
    // no hover (a touch screen) every row has them, shown.
    this.buttonsEverywhere = matchMedia("(hover: none), (pointer: coarse)");  // as the stylesheet's touch layout
    this.pointed = null;  // the serial of the row under the pointer: drawn again, it keeps its buttons
    this.container.addEventListener("mouseover", (event) => {
      const row = event.target.closest(".bl-row");
      if (row === null) return;
      this.pointed = Number(row.dataset.serial);
      addRowButtons(row);
    });
    this.container.addEventListener("mouseleave", () => { this.pointed = null; });
    // Only the focused row's buttons are stops of Tab (after the row): the others, made for rows the
    // pointer or the focus passed (or for every row on a touch screen), would make the log many stops.
    this.container.addEventListener("focusin", (event) => {
      const row = event.target.closest(".bl-row");
      if (row === null) return;
      addRowButtons(row);
      setButtonsTabbable(row, true);
      nameRow(row);
    });
    // Shift+Tab from a row's first button goes back to its row, which is no stop of Tab (the browser went
    // on to the log, and the arrows then started again from the newest row in view).
    this.container.addEventListener("keydown", (event) => {
      if (event.key !== "Tab" || !event.shiftKey || !(event.target instanceof Element)) return;
      const row = event.target.closest(".bl-row");
      if (row === null || event.target !== row.querySelector(".bl-copy")) return;
      event.preventDefault();
      row.focus();
    });
    this.container.addEventListener("focusout", (event) => {
      const row = event.target.closest(".bl-row");
      if (row !== null && !(event.relatedTarget instanceof Node && row.contains(event.relatedTarget))) {
        setButtonsTabbable(row, false);
      }
    });
  }

  // The keys' way through the rows: the log is one stop of Tab (a row at a time would be thousands, and
  // Tab into a following log landed on a row drawn above the view). ArrowDown and ArrowUp there take the
  // focus to the newest row in view, then from row to row (Tab: to the row's buttons, then out of the
  // log); past the rows drawn, the list scrolls a step, as the keys do.
  moveFocus(event) {
    if ((event.key !== "ArrowDown" && event.key !== "ArrowUp") || event.altKey || event.ctrlKey || event.metaKey) return;
    const down = event.key === "ArrowDown";
    const view = this.scroller.getBoundingClientRect();
    const inView = (row) => {
      const box = row.getBoundingClientRect();
      return box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
    };
    let current = event.target instanceof Element ? event.target.closest(".bl-row") : null;
    // A focused row the reader scrolled away from (PageUp, the wheel): on from the rows in view instead.
    if (current !== null && !inView(current)) current = null;
    let target;
    if (current === null) {
      const shown = [...this.container.querySelectorAll(".bl-row")].filter(inView);
      target = shown[shown.length - 1];  // the newest in view: a row above it would scroll away at once
    } else {
      const rows = [...this.container.querySelectorAll(".bl-row")];
      target = rows[rows.indexOf(current) + (down ? 1 : -1)];
    }
    if (!target) return;
    event.preventDefault();
    target.focus();
  }

  // Take `block` out of the rows drawn; if it holds the keyboard's focus, the log keeps it, not the page.
  removeBlock(block) {
    const focused = block.contains(document.activeElement);
    block.remove();
    if (focused) this.scroller.focus({ preventScroll: true });
  }

  // The reader scrolls up (if there is anywhere to go): the view stays where the reader takes it.
  stopFollowing() {
    if (!this.following || this.scroller.scrollTop <= 0) return;
    this.following = false;
    this.stoppedAt = performance.now();
    this.jump.hidden = false;
    this.cancelScroll();
  }

  cancelScroll() {
    if (this.scrollFrame === null) return;
    cancelAnimationFrame(this.scrollFrame);
    this.scrollFrame = null;
  }

  stop() {
    this.resizeObserver.disconnect();
    if (this.renderFrame !== null) cancelAnimationFrame(this.renderFrame);
    if (this.scrollFrame !== null) cancelAnimationFrame(this.scrollFrame);
  }

  // Follow again (End, Jump to latest), scrolled at once rather than at the next frame: the scroll event of
  // a scroll the reader made just before (Home, then End in the same frame) comes first in that frame, and
  // would read as the reader scrolling up.
  follow() {
    this.following = true;
    this.followedAt = performance.now();
    this.jump.hidden = true;
    this.scrollToNewestNow();
  }

  // Draw, and scroll to the newest row at once rather than at the next frame.
  scrollToNewestNow() {
    this.render();
    if (this.scrollFrame === null) return;
    this.cancelScroll();
    this.scrollToTarget();
  }

  setUtc(utc) {
    this.utc = utc;
    this.render();
  }

  // Show these fields as columns in every row (on a phone they take a line, so rows are measured again).
  setColumns(columns) {
    this.columns = columns;
    this.columnsSet++;
    this.container.classList.toggle("bl-with-cols", columns.length > 0);
    this.rowHeight = this.measureRowHeight();
    this.render();
  }

  // The highlights of these entries arrived: paint them into their rows, if drawn.
  highlighted(entries) {
    const rows = new Map(Array.from(this.container.querySelectorAll(".bl-row"), (row) => [Number(row.dataset.serial), row]));
    for (const entry of entries) {
      const row = rows.get(entry._n);
      if (row !== undefined) paintHighlight(row, entry, this.expanded.has(entry._n), this.highlighter.marksOf(entry));
    }
  }

  // The patterns changed: rows drawn keep their marks until the new ones come (none left: cleared now).
  highlightsChanged() {
    const entries = [];
    for (const row of this.container.querySelectorAll(".bl-row")) {
      const entry = this.logRows.entryOf(Number(row.dataset.serial));
      if (entry !== undefined) entries.push(entry);
    }
    if (this.highlighter.active) this.highlighter.request(entries);
    else this.highlighted(entries);
  }

  // After the rows were cleared: nothing is open, and the view follows again.
  reset() {
    this.opened++;
    this.expanded.clear();
    this.opening = null;
    this.following = true;
  }

  // Open or close the row of this serial.
  toggle(serial) {
    this.opened++;
    if (this.expanded.has(serial)) {
      this.expanded.delete(serial);
    } else {
      this.expanded.set(serial, 0);
      if (this.following) this.opening = serial;
    }
    this.render();
  }

  // `count` shown rows were put above the others: a view that follows stays at the bottom; one that
  // does not moves down by their height, so the rows in it stay where they were.
  prepended(count) {
    if (!count) return;
    if (this.following) {
      this.render();
      return;
    }
    const top = this.scroller.scrollTop;
    this.render();  // the list is taller now: set its height before scrolling into it
    this.scroller.scrollTop = top + count * this.rowHeight;
    this.ownScrollTop = this.scroller.scrollTop;  // its scroll event, however late, is not the reader's
    this.render();
  }

  // Where the reader is, to keep it across a change of what is shown (the filter): the row with the
  // keyboard's focus, if it is in view, then the rows in view from the top, each as [serial, its top's
  // distance from the view's top]. While following only the focused row (the newest row stays in view
  // anyway); null without one.
  readerPlace() {
    const view = this.scroller.getBoundingClientRect();
    const focused = document.activeElement instanceof Element ? document.activeElement.closest(".bl-row") : null;
    const rows = [...this.container.querySelectorAll(".bl-row")].filter((row) => {
      const box = row.getBoundingClientRect();
      return box.bottom > view.top && box.top < view.bottom;
    });
    const place = (row) => [Number(row.dataset.serial), row.getBoundingClientRect().top - view.top];
    if (focused !== null && rows.includes(focused)) return [place(focused), ...(this.following ? [] : rows.map(place))];
    return this.following ? null : rows.map(place);
  }

  // Draw what is shown now, the first row of `place` (readerPlace) still shown where it was in the view:
  // a new filter that showed more rows above it, or fewer, moved the reader to other rows (and a focused
  // row out of view).
  renderAtPlace(place) {
    const kept = place && place.find(([serial]) => this.logRows.indexOf(serial) >= 0);
    if (!kept) {
      this.render();
      return;
    }
    if (this.following) {  // the focused row stays: the view stops following, as the reader's scroll would
      this.following = false;
      this.jump.hidden = false;
      this.cancelScroll();
    }
    const [serial, offset] = kept;
    this.render(0, Math.max(0, this.rowTop(serial, this.expandedPositions()) - offset));
  }

  // Put the row of this serial in the middle of the view, and stop following.
  showInMiddle(serial) {
    const top = this.rowTop(serial, this.expandedPositions());
    if (top === null) return;
    this.following = false;
    this.jump.hidden = false;
    this.render();  // the list's height first
    this.scroller.scrollTop = Math.max(0, top - (this.viewHeight - this.rowHeight) / 2);
    this.ownScrollTop = this.scroller.scrollTop;  // its scroll event, however late, is not the reader's
    this.render();
  }

  // `entries`, shown rows, left at the top under the row cap: a view the reader scrolled away from the
  // newest row moves up by their height, and keeps showing the rows it showed (it drifted down by hundreds
  // of rows a second on a busy stream). The browser keeps scrollTop in whole px: the position is kept to
  // the fraction here, else what each move lost added up to a creep of rows.
  droppedAbove(entries) {
    if (this.following || !entries.length) return;
    let height = entries.length * this.rowHeight;
    for (const entry of entries) height += this.expanded.get(entry._n) ?? 0;
    const scrollTop = this.scroller.scrollTop;
    // The fraction is kept only while the browser's position is still the one it made of it: a reader's
    // step of one px (a touchpad, a slow finger), taken for rounding, was undone.
    const exact = this.keptTop !== null && scrollTop === this.keptScrollTop ? this.keptTop : scrollTop;
    this.keptTop = Math.max(0, exact - height);
    this.scroller.scrollTop = this.keptTop;
    this.keptScrollTop = this.scroller.scrollTop;
  }

  // Entries that left the model are not open any more.
  forget(entries) {
    if (!this.expanded.size) return;
    for (const entry of entries) this.expanded.delete(entry._n);
  }

  // While following, the scroll position is computed rather than read, and set in the next frame,
  // before it is painted: new rows go into the page without waiting for a layout, and the page is
  // laid out once per frame however many renders came before it.
  // `at`: a scroll position to go to first (not while following), in the list at its new height.
  render(settling = 0, at = null) {
    const shown = this.logRows.shown;
    const scroller = this.scroller;
    const positions = this.expandedPositions();
    const height = this.rowHeight;
    const extraTotal = positions.reduce((sum, [, extra]) => sum + extra, 0);
    const contentHeight = shown.length * height + extraTotal;
    // The scroller's height is fractional and its clientHeight rounded: a pixel to spare below the
    // rows keeps the newest one wholly in view when following.
    const sizerHeight = Math.ceil(contentHeight) + 1;
    if (at !== null && !this.following) {
      this.sizer.style.height = `${sizerHeight}px`;
      scroller.scrollTop = at;  // the browser keeps it within the list's new height
    }
    let top = this.following ? Math.max(0, sizerHeight - this.viewHeight) : scroller.scrollTop;
    // A row opened while following that is now too tall to show whole: show its head at the top,
    // and stop following (the Jump to latest button comes back).
    const openedTop = this.following && this.opening !== null ? this.rowTop(this.opening, positions) : null;
    let scrollTo = this.following;
    if (openedTop !== null && openedTop < top) {
      top = openedTop;
      this.following = false;
      this.opening = null;
      this.jump.hidden = false;
      scrollTo = true;
    }
    // First row in view: walk past the open rows above the scroll position.
    let offset = 0;
    let first = Math.floor(top / height);
    for (const [index, extra] of positions) {
      if (index * height + offset + height + extra <= top) { offset += extra; first = Math.floor((top - offset) / height); }
      else { first = Math.min(first, index); break; }  // an open row that reaches into the view is the first
    }
    first = Math.max(0, Math.min(first, shown.length - 1) - OVERSCAN_ROWS);
    const visibleCount = Math.ceil(this.viewHeight / height) + 2 * OVERSCAN_ROWS;
    const last = Math.min(shown.length, first + visibleCount);
    this.sizer.style.height = `${sizerHeight}px`;
    this.updateRows(first, last, positions);
    if (scrollTo) this.scrollAtNextFrame(top);
    // An open row measured at another height moves the blocks below it: they are placed again at once
    // (else they would overlap it, or leave a gap, until the next frame).
    if (!this.remeasureExpanded()) this.opening = null;  // measured: it fitted, following goes on
    else if (settling < MAX_SETTLING_RENDERS) this.render(settling + 1);
    else this.requestRender();
  }

  // Where the row of this serial starts in the list, in px; null if it is not shown.
  rowTop(serial, positions) {
    const index = this.logRows.indexOf(serial);
    return index < 0 ? null : this.topAt(index, positions);
  }

  // Where the shown row at this index starts in the list, in px.
  topAt(index, positions) {
    let top = index * this.rowHeight;
    for (const [position, extra] of positions) { if (position < index) top += extra; else break; }
    return top;
  }

  scrollAtNextFrame(top) {
    this.scrollTarget = top;
    if (this.scrollFrame !== null) return;
    this.scrollFrame = requestAnimationFrame(() => {
      this.scrollFrame = null;
      this.scrollToTarget();
    });
  }

  scrollToTarget() {
    this.scroller.scrollTop = this.scrollTarget;
    this.ownScrollTop = this.scroller.scrollTop;
    this.resized = false;
  }

  requestRender() {
    if (this.renderFrame !== null) return;
    this.renderFrame = requestAnimationFrame(() => { this.renderFrame = null; this.render(); });
  }

  // The height of a collapsed row, in the layout the columns take at this width (see MIN_MESSAGE_CHARS).
  measureRowHeight() {
    this.container.classList.remove("bl-cols-below");
    let probe = this.probeRow();
    if (this.columns.length && !messageFits(probe.querySelector(".bl-message"))) {
      probe.remove();
      this.container.classList.add("bl-cols-below");
      probe = this.probeRow();
    }
    const height = probe.getBoundingClientRect().height || 22;
    probe.remove();
    return height;
  }

  // A row drawn, hidden, in the list: to measure. As wide as a row with fields (their badge) and, on a
  // merged view, a stream's mark.
  probeRow() {
    const entry = { ts: 0, level: "INFO", program: "p", message: "x", id: "0-0", _n: 0, fields: { x: 1 } };
    if (this.merged) entry._s = 0;
    const probe = renderRow(entry, false, this.utc, false, null, this.columns);
    probe.style.visibility = "hidden";
    this.container.append(probe);
    return probe;
  }

  // The open rows among those shown, by position: [index, extra px], in order.
  expandedPositions() {
    const positions = [];
    for (const [serial, extra] of this.expanded) {
      const index = this.logRows.indexOf(serial);
      if (index >= 0) positions.push([index, extra]);
    }
    return positions.sort((a, b) => a[0] - b[0]);
  }

  // Draw the shown rows from index `first` up to `last` (not included). Rows go in blocks of up to
  // BLOCK_ROWS, each at its own top in the rows' layer, and the layer moves as a whole (a transform):
  // while following, a draw adds the new rows to the last block (or a new one) and removes the blocks
  // wholly above what is wanted, so no row that stays moves inside the layer, and a frame paints only
  // the new rows. (With all rows in one column inside the layer, each row leaving at the top moved
  // every other row up in it, and every frame painted all of them again: at 200 lines/s, 1.8-2.4 ms
  // of painting a frame against 0.6.) A block at either end may hold a few rows beyond `first` and
  // `last`. A row not of today shows its date; if one in view does, the time column widens for all.
  updateRows(first, last, positions) {
    const shown = this.logRows.shown;
    const rows = this.container;
    const [todayStart, todayEnd] = this.today();
    const dated = (entry) => entry.ts * 1000 < todayStart || entry.ts * 1000 >= todayEnd;
    const look = `${this.utc}:${todayStart}:${this.columnsSet}:${this.opened}`;
    const wanted = shown.slice(first, last);
    rows.classList.toggle("bl-dated", wanted.some(dated));
    this.highlighter.request(wanted);
    const reusable = look === this.drawnLook ? this.blocksAt(first, last) : null;
    this.drawnLook = look;
    // New blocks of the shown rows from index `from` up to `to`, placed for the layer at `offset`.
    const build = (from, to, offset) => {
      const made = [];
      for (let start = from; start < to; start += BLOCK_ROWS) {
        const block = { element: document.createElement("bl-block"), serials: [], top: this.topAt(start, positions) - offset };
        block.element.style.top = `${block.top}px`;
        for (const entry of shown.slice(start, Math.min(to, start + BLOCK_ROWS))) {
          block.element.append(this.rowOf(entry, dated(entry)));
          block.serials.push(entry._n);
        }
        made.push(block);
      }
      return made;
    };
    if (reusable === null) {
      // The row with the keyboard's focus (or with it on one of its buttons) has it again, drawn again
      // (Enter opened it); the log has it if the row is not drawn now.
      const focused = rows.contains(document.activeElement) ? document.activeElement.closest(".bl-row") : null;
      const offset = this.topAt(first, positions);
      this.blocks = build(first, last, offset);
      rows.replaceChildren(...this.blocks.map((block) => block.element));
      this.placeLayer(offset);
      const again = focused && rows.querySelector(`.bl-row[data-serial="${Number(focused.dataset.serial)}"]`);
      if (again) again.focus({ preventScroll: true });
      else if (focused !== null) this.scroller.focus({ preventScroll: true });
      return;
    }
    // Keep the blocks that hold any wanted row; the layer sits where the first of them is right.
    let [keptFrom, keptTo] = reusable;
    const blocks = this.blocks;
    while (blocks.length && keptFrom + blocks[0].serials.length <= first) {
      keptFrom += blocks[0].serials.length;
      this.removeBlock(blocks.shift().element);
    }
    while (blocks.length && keptTo - blocks[blocks.length - 1].serials.length >= last) {
      keptTo -= blocks[blocks.length - 1].serials.length;
      this.removeBlock(blocks.pop().element);
    }
    const offset = this.topAt(keptFrom, positions) - blocks[0].top;
    let index = keptFrom;
    for (const block of blocks) {  // an open row's height, measured, moves the blocks below it
      const top = this.topAt(index, positions) - offset;
      if (Math.abs(top - block.top) > 0.5) block.element.style.top = `${(block.top = top)}px`;
      index += block.serials.length;
    }
    if (first < keptFrom) {
      const above = build(first, keptFrom, offset);
      rows.prepend(...above.map((block) => block.element));
      blocks.unshift(...above);
    }
    const lastBlock = blocks[blocks.length - 1];
    while (keptTo < last && lastBlock.serials.length < BLOCK_ROWS) {
      const entry = shown[keptTo++];
      lastBlock.element.append(this.rowOf(entry, dated(entry)));
      lastBlock.serials.push(entry._n);
    }
    if (keptTo < last) {
      const below = build(keptTo, last, offset);
      rows.append(...below.map((block) => block.element));
      blocks.push(...below);
    }
    this.placeLayer(offset);
  }

  // Today's span (todaySpan), worked out again once it is over, or a minute old (the clock or the time
  // zone may have moved): a draw takes it for every line.
  today() {
    const span = this.todayCache;
    const now = Date.now();
    const fresh = span !== undefined && span.utc === this.utc && now < span.end
      && now >= span.at && now - span.at < TODAY_KEPT_MS;
    if (fresh) return [span.start, span.end];
    const [start, end] = todaySpan(this.utc);
    this.todayCache = { utc: this.utc, start, end, at: now };
    return [start, end];
  }

  // Where the drawn blocks' rows are among the shown ones now ([from, to) of their indexes) if they
  // are still consecutive shown rows, in order, and some of them are wanted ([first, last)), and no
  // block is placed too far down the layer; else null (all are drawn afresh).
  blocksAt(first, last) {
    if (!this.blocks.length || Math.abs(this.blocks[0].top) > this.maxBlockTop) return null;
    const shown = this.logRows.shown;
    const from = this.logRows.indexOf(this.blocks[0].serials[0]);
    if (from < 0) return null;
    let index = from;
    for (const block of this.blocks) {
      for (const serial of block.serials) {
        if (index >= shown.length || shown[index]._n !== serial) return null;
        index++;
      }
    }
    return from < last && index > first ? [from, index] : null;
  }

  // The row element of `entry`, marked if it is the line a link opened the page at.
  rowOf(entry, dated) {
    const row = renderRow(entry, this.expanded.has(entry._n), this.utc, dated, this.highlighter.marksOf(entry),
      this.columns, this.buttonsEverywhere.matches || entry._n === this.pointed);
    if (entry.id === this.marked) {  // the linked line: marked by a border and a sign, not by colour alone
      row.classList.add("bl-linked");
      row.setAttribute("aria-current", "true");
    }
    return row;
  }

  // Move the rows' layer so that a block's top in it plus `offset` is its place in the list.
  placeLayer(offset) {
    if (offset === this.layerOffset) return;
    this.layerOffset = offset;
    this.container.style.transform = `translateY(${offset}px)`;
  }

  // Returns whether an open row's height changed (its new height is noted).
  remeasureExpanded() {
    if (!this.expanded.size) return false;  // no row is open: nothing to look for among the rows
    let changed = false;
    for (const row of this.container.querySelectorAll(".bl-row.bl-open")) {
      const serial = Number(row.dataset.serial);
      const extra = Math.max(0, row.getBoundingClientRect().height - this.rowHeight);
      if (Math.abs((this.expanded.get(serial) ?? 0) - extra) > 0.5) { this.expanded.set(serial, extra); changed = true; }
    }
    return changed;
  }

  onScroll() {
    const scroller = this.scroller;
    // Our own scrolling while following (render already drew for it), not the user's.
    if (this.following && this.ownScrollTop !== null && Math.abs(scroller.scrollTop - this.ownScrollTop) < 1) return;
    // Nor the browser's: a resized window keeps or cuts the scroll position in px, while rows change
    // height (the window's width) or the view does, until our next scroll puts the newest row in view.
    if (this.following && (this.resized || scroller.clientHeight !== this.viewHeight)) {
      this.requestRender();
      return;
    }
    // Just after End, a scroll that is not ours ends one the reader made before it (a wheel's, applied a
    // frame after End's): back to the newest row, as asked. A scroll up begun after End stops following
    // first (the wheel's, the keys' and the finger's listeners), and is left alone.
    if (this.following && performance.now() - this.followedAt < FOLLOWED_FOR_MS) {
      this.scrollToNewestNow();
      return;
    }
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < AT_BOTTOM_PX;
    if (this.following && !atBottom) this.cancelScroll();  // the reader's scroll, not to be undone
    // Just after the reader scrolled up, a scroll event may still read "at the bottom" (an earlier one, or a
    // smooth scroll's first px): that is not the reader coming back down.
    if (!this.following && atBottom && performance.now() - this.stoppedAt < STOPPED_FOR_MS) return;
    this.following = atBottom;
    this.jump.hidden = atBottom || this.logRows.shown.length === 0;
    this.requestRender();
  }
}

// Whether the `message` cell of a row is at least MIN_MESSAGE_CHARS characters wide.
function messageFits(message) {
  const sample = document.createElement("span");
  sample.style.position = "absolute";
  sample.textContent = "x".repeat(MIN_MESSAGE_CHARS);
  message.append(sample);
  const wanted = sample.getBoundingClientRect().width;
  sample.remove();
  return message.getBoundingClientRect().width >= wanted;
}
