// Older lines: the page holds the newest rows, the bus keeps more. This part says how many ("showing
// the newest 500 of 8,214"), asks the server for the page before the oldest row when the reader
// scrolls to the top (or presses Home or PageUp there), one ask at a time, and, with a filter set,
// offers to search every line kept: the matches go above the rows, and the status says what the
// filter covers. The server answers each ask once (pages/older_lines.py). Texts only, set with
// textContent: constant words and numbers.
import { compareIds } from "log_rows";

const AT_TOP_PX = 2;
const SHOW_EVERY_MS = 500;
// A notice of where the top is (not of loading) fades after this long: it lies over the first row.
const TOP_NOTICE_MS = 3000;
const NUMBER = new Intl.NumberFormat();
// Entries kept to be counted when the server's count comes: more than arrive while it is on its way.
const RECENT = 2000;
export const START_TEXT = "start of the stream";

function capText(maxRows) {
  return `keeping at most ${NUMBER.format(maxRows)} rows; older lines: bunnylogs tail --since, or /entries?before=`;
}

// What the status says of the rows held and the lines kept, what the search button offers ("" for
// none), and what the top of the log says ("" for nothing). On a merged view, the lines kept are
// those of all its streams. After an ask answered with an `error`, the button offers to try again if
// `retry` (the bus was away), else nothing: the server refused the filter, and would refuse it again
// until it changes.
// A filter with field conditions (`status=500`) is not offered: the server's search would refuse them.
export function olderTexts({ held, kept, complete, maxRows, filtered, conditions, search, loading, error, retry, around }) {
  const keptText = NUMBER.format(kept ?? held);
  const capped = !complete && held >= maxRows;
  let status = "";
  let button = "";
  if (search !== null) {
    status = search.reachedStart
      ? `filter: all ${keptText} lines kept · ${NUMBER.format(search.found)} older ${search.found === 1 ? "match" : "matches"}`
      : `filter: searched the newest ${NUMBER.format(search.searched)} of ${keptText} lines kept`;
    if (!search.reachedStart && !capped) button = "search further";
  } else if (!complete && kept !== null) {
    status = around ? `showing ${NUMBER.format(held)} of ${keptText} lines kept, around the linked line`
      : `showing the newest ${NUMBER.format(held)} of ${keptText}`;
    if (filtered) status += ` · filter: the ${NUMBER.format(held)} rows in this page`;
    if (filtered && conditions) status += " (search all takes no field conditions)";
    else if (filtered && !capped) button = `search all ${keptText} kept lines`;
  } else if (filtered) {
    status = `filter: all ${keptText} lines kept`;
  }
  if (capped) status += ` · ${capText(maxRows)}`;
  if (error) status += ` · search: ${error}`;
  if (error && button) button = retry ? "try again" : "";
  const searchDone = search !== null && search.reachedStart;
  const top = loading ? (search !== null ? "searching older lines…" : "loading older lines…")
    : complete || searchDone ? START_TEXT : capped ? capText(maxRows) : "";
  return { status, button, top };
}

export class OlderLines {
  // The elements are the component's refs; logRows (a LogRows) holds the rows, list (a VirtualList)
  // draws them; ask({before, held, search}) sends an ask to the server.
  constructor({ scroller, history, searchAll, older }, logRows, list, { maxRows, ask }) {
    this.refs = { scroller, history, searchAll, older };
    this.logRows = logRows;
    this.list = list;
    this.maxRows = maxRows;
    this.ask = ask;
    this.kept = null;       // what the bus keeps of all the page's streams (the sum of keptBy)
    this.keptBy = [];       // by stream index: what the bus keeps of it, as last told, plus what came since
    this.maxKept = Infinity;  // what the bus keeps of a stream at most
    this.newest = [];       // by stream index: the ID of the newest entry counted in keptBy (null: none)
    this.recent = [];       // the last entries that came (up to RECENT; not yet trimmed: twice that)
    this.atStart = false;   // the oldest row held is the oldest line the bus keeps
    this.loading = false;
    this.askedWhileLoading = false;  // the reader asked at the top while an answer was on its way
    this.cleared = false;   // the reader emptied the view: nothing older comes back into it
    this.filtered = false;
    this.conditions = false;  // the filter holds field conditions (log_fields), which the server does not search
    this.search = null;     // after "search all": {boundary, searched, found, nextBefore, reachedStart}
    this.error = null;
    this.retry = false;     // the error was the bus's, not a refusal of the filter: asking again may work
    this.around = false;    // the rows are those around a linked line, not the newest
    this.asked = false;     // the reader asked for older lines at least once
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    // At the top a wheel turned up scrolls nothing: it asks too.
    scroller.addEventListener("wheel", (event) => { if (event.deltaY < 0 && this.atTop()) this.load(); },
      { passive: true });
    searchAll.addEventListener("click", () => this.searchAll());
  }

  start() {
    this.timer = setInterval(() => this.show(), SHOW_EVERY_MS);
    this.show();
  }

  stop() {
    clearInterval(this.timer);
  }

  // --- told by the view ---------------------------------------------------------------------------
  // The bus kept kept[index] entries of each of the page's streams (at most maxKept each) when the
  // newest of each was newest[index] (null: none). Rows are faster than this word from the server:
  // those that came in the meantime are newer than that, and are counted on top.
  // A stream the bus held nothing of (newest null: new, or emptied) is counted from the rows that come
  // after this word: those that came before may be of what it no longer holds.
  setKept(kept, maxKept, newest) {
    if (!Array.isArray(kept) || !Array.isArray(newest)) return;
    this.keptBy = [...kept];
    this.maxKept = maxKept;
    this.newest = [...newest];
    const empty = new Set(newest.flatMap((id, stream) => (id === null ? [stream] : [])));
    for (const entry of this.recent) {
      const stream = entry._s ?? 0;
      if (empty.has(stream)) this.newest[stream] = entry.id;
    }
    this.count(this.recent);
    this.show();
  }

  // Entries came, live or sent again after the socket dropped: the bus keeps them too (up to what it
  // keeps of a stream). Those of the history the page opened with are in the server's count already.
  arrived(entries) {
    for (const entry of entries) this.recent.push(entry);
    if (this.recent.length > 2 * RECENT) this.recent.splice(0, this.recent.length - RECENT);
    if (this.kept !== null) this.count(entries);
  }

  // Count those of `entries` newer than the newest counted of their stream: none is counted twice.
  count(entries) {
    const keptBy = this.keptBy;
    for (const entry of entries) {
      const stream = entry._s ?? 0;
      const newest = this.newest[stream];
      if (newest != null && compareIds(entry.id, newest) <= 0) continue;
      this.newest[stream] = entry.id;
      const kept = keptBy[stream] ?? 0;  // Redis trims a stream to about its length: never less than told
      keptBy[stream] = Math.max(kept, Math.min(kept + 1, this.maxKept));
    }
    this.kept = keptBy.reduce((sum, kept) => sum + kept, 0);
  }

  // The row cap dropped the oldest rows: the start of the stream is not held any more.
  dropped() {
    this.atStart = false;
    if (this.search !== null) this.endSearch();
  }

  // The filter changes (call before the rows are filtered again): a search's matches were of the old one.
  // `conditions`: whether its text holds field conditions.
  filterChanged(filter, conditions) {
    this.filtered = Boolean(filter.text || (filter.hidden_levels || []).length || (filter.programs || []).length);
    this.conditions = conditions;
    this.error = null;
    if (this.search !== null) this.endSearch();
    this.show();
  }

  // The page refused the filter it was given (an invalid or too costly regex): it shows every row,
  // and no search of the server's lines is offered for a filter the page itself does not apply.
  filterRefused() {
    this.filtered = false;
    this.show();
  }

  clear() {
    this.cleared = true;
    this.search = null;
    this.show();
  }

  // Home: to the oldest row (and ask for older ones there); PageUp: a page up, or ask at the top.
  key(key) {
    const scroller = this.refs.scroller;
    if (this.atTop()) this.load();
    else if (key === "Home") scroller.scrollTop = 0;
    else scroller.scrollTop -= scroller.clientHeight * 0.9;
  }

  // The server's answer to the last ask.
  done(answer) {
    this.loading = false;
    if (answer.kept !== undefined) this.setKept(answer.kept, answer.max_kept, answer.newest);
    this.error = typeof answer.error === "string" ? answer.error : null;
    this.retry = answer.retry === true;
    if (answer.search && this.search !== null) {
      this.search.searched += answer.scanned;
      this.search.found += answer.sent;
      this.search.nextBefore = answer.next_before;
      this.search.reachedStart = answer.reached_start;
    } else if (!answer.search && answer.reached_start) {
      this.atStart = true;
    }
    this.show();
    // An ask at the top that came before this answer did (a key, the wheel, a scroll up) is not lost: asked
    // again, if the reader is still at the top now that the rows came.
    if (this.askedWhileLoading) {
      this.askedWhileLoading = false;
      if (this.atTop()) this.load();
    }
  }

  // --- asking ------------------------------------------------------------------------------------
  searchAll() {
    if (!this.filtered || this.conditions) return;
    if (this.search === null) {
      const boundary = this.logRows.oldestId();
      if (boundary === null) return;
      this.search = { boundary, searched: this.logRows.held(), found: 0, nextBefore: boundary, reachedStart: false };
    }
    this.load();
  }

  load() {
    this.asked = true;
    if (this.loading) {
      this.askedWhileLoading = true;
      return;
    }
    if (this.cleared || this.complete() || this.logRows.held() >= this.maxRows) return;
    const search = this.search !== null;
    if (search && (this.search.reachedStart || !this.search.nextBefore)) return;
    if (search && this.error !== null && !this.retry) return;  // refused: not again with the same filter
    const before = search ? this.search.nextBefore : this.logRows.oldestId();
    if (before === null) return;
    this.loading = true;
    this.show();
    this.ask({ before, held: this.logRows.held(), search });
  }

  // --- state -------------------------------------------------------------------------------------
  // Whether the rows held go back to the oldest line kept.
  complete() {
    return this.atStart || (this.kept !== null && this.kept <= this.logRows.held());
  }

  atTop() {
    return this.refs.scroller.scrollTop <= AT_TOP_PX;
  }

  // Only a list taller than the view is scrolled by the reader: a shorter one is put back at the top
  // by the browser itself, when a filter hides rows (the wheel and the keys ask there instead).
  onScroll() {
    const scroller = this.refs.scroller;
    if (this.atTop() && scroller.scrollHeight > scroller.clientHeight) this.load();
    this.showTop();
  }

  // Put back the rows as they were before the search: its matches go.
  endSearch() {
    const boundary = this.search.boundary;
    this.search = null;
    const rows = this.logRows;
    const first = rows.all.findIndex((entry) => compareIds(entry.id, boundary) >= 0);
    const matches = first < 0 ? rows.all.length : first;
    if (!matches) return;
    this.list.forget(rows.all.splice(0, matches));
    rows.received -= matches;  // the count of lines is of those the page holds or held, not of matches gone
    rows.shown = rows.all.filter((entry) => rows.matches(entry));
  }

  show() {
    const texts = olderTexts({
      held: this.logRows.held(), kept: this.cleared ? null : this.kept, complete: this.cleared || this.complete(),
      maxRows: this.maxRows, filtered: this.filtered && !this.cleared, conditions: this.conditions, search: this.search,
      loading: this.loading, error: this.error, retry: this.retry, around: this.around,
    });
    const { history, searchAll } = this.refs;
    if (history.textContent !== texts.status) history.textContent = texts.status;
    history.hidden = !texts.status;
    if (searchAll.textContent !== texts.button) searchAll.textContent = texts.button;
    searchAll.hidden = !texts.button;
    this.topText = texts.top;
    this.showTop();
  }

  // The top of the log says what happens there while the reader is there (or while loading): a
  // list that fits the view, never scrolled nor asked for more, says nothing over its first row.
  showTop() {
    const { older, scroller } = this.refs;
    const scrolls = scroller.scrollHeight > scroller.clientHeight;
    const there = this.atTop() && this.logRows.shown.length && (this.asked || scrolls);
    const text = this.loading || there ? this.topText : "";
    if (older.textContent !== text) {
      older.textContent = text;
      older.classList.remove("bl-older-done");
      clearTimeout(this.fadeTimer);
      if (text && !this.loading) this.fadeTimer = setTimeout(() => older.classList.add("bl-older-done"), TOP_NOTICE_MS);
    }
    if (older.hidden !== !text) older.hidden = !text;  // set even to the same value, it restyles: every scroll
  }
}
