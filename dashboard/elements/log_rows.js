// The row model: the entries this viewer holds (at most maxRows, oldest first), those of them that
// pass the filter, what arrived and is not drawn yet, and what waits while paused. No drawing here.
import { withoutEscapeSequences } from "log_text";
import { compileFilterPattern } from "log_pattern";
import { meetsConditions, parseFilterText } from "log_fields";
import { hiddenStreamIndexes } from "stream_labels";

// What the text filter searches: the message as shown (without colour codes), and the fields.
function haystack(entry) {
  if (entry._hay === undefined) {
    const message = withoutEscapeSequences(entry.message);
    entry._hay = entry.fields ? `${message} ${JSON.stringify(entry.fields)}` : message;
  }
  return entry._hay;
}

// Names of each kind (programs, levels) reported as seen, at most: the page shows fewer
// (viewer_controls.py), and thousands of names from a buggy sender must not flood the socket.
const MAX_SEEN_NAMES = 1000;

// Nothing left under the row cap (no allocation per admitted batch).
const NONE = Object.freeze([]);

export class LogRows {
  // onSeen(programs, levels) is called with the programs and levels never admitted before.
  constructor(maxRows, onSeen) {
    this.maxRows = maxRows;
    this.onSeen = onSeen;
    this.all = [];          // held entries, oldest first, at most maxRows
    this.shown = [];        // the held entries that pass the filter, in order
    this.incoming = [];     // arrived since the last admit
    this.pending = [];      // arrived while paused, at most maxRows
    this.pendingShown = 0;  // how many of them pass the filter
    this.shownDropped = [];  // the shown entries the last admit dropped under the row cap
    this.received = 0;
    this.serial = 0;        // arrival order: IDs arrive in order, so this sorts like them
    this.olderSerial = 1;   // rows put above the oldest (prepend) count down from below the first
    this.programsSeen = new Set();
    this.levelsSeen = new Set();
    this.paused = false;
    this.filterError = null;
    this.textGeneration = 0;
    this.setFilter({});
  }

  // Entries from the server, to be admitted with the next frame.
  arrive(entries) {
    this.received += entries.length;
    for (const entry of entries) this.incoming.push(entry);
    // A hidden tab gets no animation frames: keep only what could ever be shown.
    if (this.incoming.length > this.maxRows) this.incoming.splice(0, this.incoming.length - this.maxRows);
  }

  // filter: {text, regex, invert, hidden_levels, programs}; an invalid regex sets filterError. Plain
  // text may hold field conditions (`status=500`, see log_fields): a row must meet them and hold the rest.
  setFilter(filter) {
    const parsed = filter.regex ? { text: filter.text || "", conditions: [], error: null } : parseFilterText(filter.text || "");
    const text = parsed.text;
    this.searchedText = text;  // what the filter's matches are marked for (log_highlight)
    this.filterError = parsed.error;
    let test = null;
    if (text && filter.regex) {
      const { pattern, error } = compileFilterPattern(text);
      this.filterError = error;
      if (pattern !== null) test = (entry) => pattern.test(haystack(entry));
    } else if (text) {
      const needle = text.toLowerCase();
      test = (entry) => haystack(entry).toLowerCase().includes(needle);
    }
    const { conditions } = parsed;
    if (conditions.length) {
      const textTest = test;
      test = (entry) => meetsConditions(entry, conditions) && (textTest === null || textTest(entry));
    }
    this.textTest = test;
    this.textGeneration++;  // rows remember their text test's answer for this filter (matches)
    this.invert = Boolean(filter.invert);
    this.hiddenLevels = new Set(filter.hidden_levels || []);
    this.programs = new Set(filter.programs || []);
    this.hiddenStreams = hiddenStreamIndexes(filter.hidden_streams);
    this.shown = this.all.filter((entry) => this.matches(entry));
    this.pendingShown = this.countShown(this.pending);
  }

  matches(entry) {
    if (this.hiddenLevels.has(entry.level)) return false;
    if (this.hiddenStreams.size && this.hiddenStreams.has(entry._s)) return false;
    if (this.programs.size && !this.programs.has(entry.program)) return false;
    if (this.textTest === null) return true;
    // Kept on the row: the volume strip asks again for each row it counts, and a regular expression on a
    // long row is the dearest part of the filter.
    if (entry._tg !== this.textGeneration) {
      entry._tm = this.textTest(entry);
      entry._tg = this.textGeneration;
    }
    return entry._tm !== this.invert;
  }

  countShown(entries) {
    let count = 0;
    for (const entry of entries) if (this.matches(entry)) count++;
    return count;
  }

  // Returns whether rows now wait to be admitted (those held while paused, on resume).
  setPaused(paused) {
    this.paused = paused;
    if (paused || !this.pending.length) return false;
    this.incoming = this.pending.concat(this.incoming);
    this.pending = [];
    this.pendingShown = 0;
    return true;
  }

  // Empty this viewer's rows; the count of lines received stays.
  clear() {
    this.all = [];
    this.shown = [];
    this.incoming = [];
    this.pending = [];
    this.pendingShown = 0;
  }

  // While paused: keep what arrived (at most maxRows of it), and count what of it resume will show.
  hold() {
    const batch = this.incoming;
    this.incoming = [];
    this.pendingShown += this.countShown(batch);
    this.pending.push(...batch);
    if (this.pending.length > this.maxRows) {
      this.pendingShown -= this.countShown(this.pending.splice(0, this.pending.length - this.maxRows));
    }
  }

  // Hold what arrived, and show what passes the filter. Returns the entries that left under the
  // row cap (oldest first), or null if nothing had arrived.
  admit() {
    const batch = this.incoming;
    if (!batch.length) return null;
    this.incoming = [];
    for (const entry of batch) entry._n = ++this.serial;
    this.noteSeen(batch);
    this.all.push(...batch);
    for (const entry of batch) if (this.matches(entry)) this.shown.push(entry);
    this.shownDropped = NONE;
    const excess = this.all.length - this.maxRows;
    if (excess <= 0) return NONE;
    const dropped = this.all.splice(0, excess);
    const oldestKept = this.all[0]._n;
    let cut = 0;
    while (cut < this.shown.length && this.shown[cut]._n < oldestKept) cut++;
    if (cut) this.shownDropped = this.shown.splice(0, cut);
    return dropped;
  }

  // Entries older than every one held (oldest first), put above them at once, also while paused:
  // they are not new. Only those older than the oldest held, and only as many as fit under the row
  // cap (the newest of them). Returns how many of them are shown.
  prepend(entries) {
    const oldest = this.oldestId();
    let older = oldest === null ? entries : entries.filter((entry) => compareIds(entry.id, oldest) < 0);
    const room = this.maxRows - this.held();
    if (room <= 0 || !older.length) return 0;
    if (older.length > room) older = older.slice(older.length - room);
    for (let i = older.length - 1; i >= 0; i--) older[i]._n = --this.olderSerial;
    this.received += older.length;
    this.noteSeen(older);
    this.all = older.concat(this.all);
    const shown = older.filter((entry) => this.matches(entry));
    this.shown = shown.concat(this.shown);
    return shown.length;
  }

  // How many entries this viewer holds: drawn, held while paused, and arrived but not admitted yet.
  held() {
    return this.all.length + this.pending.length + this.incoming.length;
  }

  // The ID of the oldest entry held, or null.
  oldestId() {
    const oldest = this.all[0] || this.pending[0] || this.incoming[0];
    return oldest ? oldest.id : null;
  }

  // Report the programs and levels never seen before (at most MAX_SEEN_NAMES of each).
  noteSeen(batch) {
    const newPrograms = [];
    const newLevels = [];
    for (const entry of batch) {
      if (this.programsSeen.size < MAX_SEEN_NAMES && !this.programsSeen.has(entry.program)) {
        this.programsSeen.add(entry.program); newPrograms.push(entry.program);
      }
      if (this.levelsSeen.size < MAX_SEEN_NAMES && !this.levelsSeen.has(entry.level)) {
        this.levelsSeen.add(entry.level); newLevels.push(entry.level);
      }
    }
    if (newPrograms.length || newLevels.length) this.onSeen(newPrograms, newLevels);
  }

  // The shown entry with this serial, or undefined.
  entryOf(serial) {
    return this.shown[this.indexOf(serial)];
  }

  // The position of the entry with this serial among those shown, or -1.
  indexOf(serial) {
    let low = 0;
    let high = this.shown.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const found = this.shown[middle]._n;
      if (found === serial) return middle;
      if (found < serial) low = middle + 1; else high = middle - 1;
    }
    return -1;
  }
}

// Entry IDs ("<ms>-<seq>", each part a whole number of up to 20 digits) in stream order: -1, 0 or 1.
export function compareIds(a, b) {
  const [aMs, aSeq] = a.split("-");
  const [bMs, bSeq] = b.split("-");
  return compareWholeNumbers(aMs, bMs) || compareWholeNumbers(aSeq || "0", bSeq || "0");
}

function compareWholeNumbers(a, b) {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
