// The volume strip's counts: how many of the rows held arrived in each second (the server's receive
// time, the first part of the entry ID: rows are held in that order, so a bar's first row is easy to
// find, and a sender's odd timestamps cannot stretch the strip), by level group, all held and those
// the filter shows. Counted as rows come and go, never recounted per row; recounted whole when the
// filter changes, or when the rows were replaced in a way the counts were not told of.

// The level groups, by the colour their part of a bar takes (see level_groups in log_view.py).
export const GROUPS = Object.freeze(["error", "warning", "info", "debug"]);
const INFO = 2;
const SLOTS = GROUPS.length * 2;  // held per group, then shown per group

// Bar widths to choose from, in seconds: the narrowest that puts the seconds held in the bars there are.
const STEPS = Object.freeze([1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
  43200, 86400]);
const DAY = 86400;

// The server's receive time of the entry with this ID ("<ms>-<seq>"), in ms since the epoch.
export function idMs(id) {
  const dash = id.indexOf("-");
  return Number(dash < 0 ? id : id.slice(0, dash));
}

export class VolumeCounts {
  // logRows (a LogRows) holds the rows and says which the filter shows; levelGroups ({LEVEL: index
  // in GROUPS}) which group a level is in (any other level: info).
  constructor(logRows, levelGroups) {
    this.logRows = logRows;
    this.levelGroups = new Map(Object.entries(levelGroups || {}));  // a Map: no "__proto__" surprises
    this.reset();
  }

  reset() {
    this.seconds = new Map();  // second -> Int32Array(SLOTS)
    this.oldest = Infinity;    // the rows counted are those held with serials in [oldest, newest]
    this.newest = -Infinity;
    this.counted = 0;
  }

  groupOf(level) {
    const group = this.levelGroups.get(level) ?? this.levelGroups.get(level.toUpperCase());
    return Number.isInteger(group) && group >= 0 && group < GROUPS.length ? group : INFO;
  }

  count(entry, sign) {
    const second = Math.floor(idMs(entry.id) / 1000);
    let counts = this.seconds.get(second);
    if (counts === undefined) {
      counts = new Int32Array(SLOTS);
      this.seconds.set(second, counts);
    }
    const group = this.groupOf(entry.level);
    counts[group] += sign;
    if (this.logRows.matches(entry)) counts[GROUPS.length + group] += sign;
    this.counted += sign;
    if (sign < 0 && counts[0] + counts[1] + counts[2] + counts[3] <= 0) this.seconds.delete(second);
  }

  // Rows that left under the row cap (oldest first): those counted are taken off.
  dropped(entries) {
    for (const entry of entries) {
      if (entry._n < this.oldest || entry._n > this.newest) continue;
      this.count(entry, -1);
      this.oldest = entry._n + 1;
    }
  }

  // Count the rows that came since (new ones at the end, older ones put above); recount everything
  // if the rows held are not what was counted and added.
  sync() {
    const all = this.logRows.all;
    let end = all.length;
    while (end > 0 && all[end - 1]._n > this.newest) end--;
    let start = 0;
    while (start < end && all[start]._n < this.oldest) start++;
    for (let i = end; i < all.length; i++) this.count(all[i], 1);
    for (let i = 0; i < start; i++) this.count(all[i], 1);
    if (all.length) {
      this.oldest = Math.min(this.oldest, all[0]._n);
      this.newest = Math.max(this.newest, all[all.length - 1]._n);
    }
    if (this.counted !== all.length) this.recount();
  }

  recount() {
    this.reset();
    this.sync();
  }

  // The bars for a strip of at most maxBars: {step (s), bars: [{start (ms), counts}]}, oldest first,
  // from the oldest second held to the newest, step-aligned; counts as in SLOTS.
  bars(maxBars) {
    if (!this.seconds.size) return { step: STEPS[0], bars: [] };
    let min = Infinity;
    let max = -Infinity;
    for (const second of this.seconds.keys()) {
      if (second < min) min = second;
      if (second > max) max = second;
    }
    const fits = (step) => Math.floor(max / step) - Math.floor(min / step) < maxBars;
    const step = STEPS.find(fits) ?? Math.ceil((max - min + 1) / maxBars / DAY) * DAY;
    const first = Math.floor(min / step);
    const bars = Array.from({ length: Math.floor(max / step) - first + 1 },
      (_, i) => ({ start: (first + i) * step * 1000, counts: new Int32Array(SLOTS) }));
    for (const [second, counts] of this.seconds) {
      const bar = bars[Math.floor(second / step) - first].counts;
      for (let slot = 0; slot < SLOTS; slot++) bar[slot] += counts[slot];
    }
    return { step, bars };
  }
}

// The bar's lines held and shown, per group: {held: [...], shown: [...]}.
export function barCounts(counts) {
  return { held: Array.from(counts.subarray(0, GROUPS.length)), shown: Array.from(counts.subarray(GROUPS.length)) };
}

// The index among `entries` (held in ID order) of the first that arrived at or after `ms`; their length if none.
export function firstAtOrAfter(entries, ms) {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (idMs(entries[middle].id) < ms) low = middle + 1; else high = middle;
  }
  return low;
}
