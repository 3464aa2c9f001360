// Highlights: the text filter's matches, and the viewer's highlight rules (each a text or regular
// expression with a colour from the fixed palette), marked in the rows without hiding any. Patterns
// are compiled once per change, here to say at once which are invalid, and matched in a worker
// (log_highlight_worker), only for the rows drawn: a pattern that backtracks for long on a line
// stops only that worker, which is ended after WATCHDOG_MS and started again without it. Each entry
// keeps its marks for the current patterns (_hl, of generation _hlGeneration).
import { compilePattern } from "log_pattern";
import { withoutEscapeSequences } from "log_text";

// Highlights look at the first this many characters of a message (as shown, without colour codes).
export const MAX_SCAN_CHARS = 4096;
// The class index of the filter's matches; 0-5 are the palette's colours (highlight_rules.py).
export const FILTER_MATCH = 6;
const WATCHDOG_MS = 1000;
const FLAGS = "gi";

const WORKER_URL = import.meta.resolve("log_highlight_worker");

export class Highlighter {
  // onMarks(entries): marks for these entries arrived. onErrors(): the errors changed.
  // onReset(): every row must ask again (a worker was ended and its answers are lost).
  constructor({ onMarks, onErrors, onReset }) {
    Object.assign(this, { onMarks, onErrors, onReset });
    this.generation = 0;
    this.patterns = [];      // what the worker matches: [{source, flags, cls, rule}]
    this.errors = [];        // [{rule, message}]: rule -1 is the filter
    this.worker = null;
    this.waiting = new Map();  // serial -> entry asked for and not answered yet
    this.lastHeard = 0;
    this.running = null;     // the rule the worker said it started last
    this.watchdog = null;
    this.tooSlow = new Set();  // sources of the patterns that once kept the worker too long
  }

  // filter: {text, regex, invert}; rules: [{text, regex, colour}]. Returns whether the patterns changed;
  // the rules refused are in .errors.
  configure(filter, rules) {
    const patterns = [];
    const errors = [];
    const add = (source, cls, rule) => {
      if (this.tooSlow.has(source)) errors.push({ rule, message: tooSlowMessage(rule) });
      else patterns.push({ source, flags: FLAGS, cls, rule });
    };
    rules.forEach((rule, index) => {
      if (!rule || typeof rule.text !== "string" || !rule.text) return;
      const { pattern, error } = compilePattern(rule.text, Boolean(rule.regex), FLAGS);
      if (error) errors.push({ rule: index, message: error });
      else add(pattern.source, rule.colour, index);
    });
    const text = filter.text || "";
    if (text && !filter.invert) {
      // An invalid filter already says so in the status bar: it simply highlights nothing.
      const { pattern } = compilePattern(text, Boolean(filter.regex), FLAGS);
      if (pattern !== null) add(pattern.source, FILTER_MATCH, -1);
    }
    this.errors = errors;
    // Unchanged patterns (the filter changed its levels or programs only) keep the marks known.
    const same = JSON.stringify(patterns) === JSON.stringify(this.patterns) && (this.worker !== null || !patterns.length);
    if (!same) this.start(patterns);
    return !same;
  }

  get active() {
    return this.patterns.length > 0;
  }

  // The marks of `entry` for the current patterns: {colour, marks}, or null while none are known.
  marksOf(entry) {
    if (!this.active) return NO_MARKS;
    return entry._hlGeneration === this.generation ? entry._hl : null;
  }

  // Ask the worker for the marks of these entries (those not known and not asked for yet).
  request(entries) {
    if (!this.active) return;
    const items = [];
    for (const entry of entries) {
      if (entry._hlGeneration === this.generation || this.waiting.has(entry._n)) continue;
      this.waiting.set(entry._n, entry);
      items.push([entry._n, withoutEscapeSequences(entry.message).slice(0, MAX_SCAN_CHARS)]);
    }
    if (!items.length) return;
    this.worker.postMessage({ type: "match", generation: this.generation, items });
    this.watch();
  }

  stop() {
    this.endWorker();
  }

  // --- the worker -----------------------------------------------------------------------------
  start(patterns) {
    this.generation++;
    this.patterns = patterns;
    this.waiting.clear();
    this.running = null;
    if (!patterns.length) {
      this.endWorker();
      return;
    }
    if (this.worker === null) {
      this.worker = new Worker(WORKER_URL);
      this.worker.onmessage = ({ data }) => this.heard(data);
    }
    this.worker.postMessage({ type: "patterns", generation: this.generation, patterns });
  }

  endWorker() {
    if (this.worker !== null) this.worker.terminate();
    this.worker = null;
    clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  heard(data) {
    this.lastHeard = performance.now();
    if (data.generation !== this.generation) return;
    if (data.type === "running") {
      this.running = data.rule;
      return;
    }
    const arrived = [];
    for (const [serial, colour, marks] of data.results) {
      const entry = this.waiting.get(serial);
      if (entry === undefined) continue;
      this.waiting.delete(serial);
      entry._hl = { colour, marks };
      entry._hlGeneration = this.generation;
      arrived.push(entry);
    }
    if (arrived.length) this.onMarks(arrived);
  }

  // While answers are awaited, the worker must say something every WATCHDOG_MS.
  watch() {
    if (this.watchdog !== null) return;
    this.lastHeard = performance.now();
    const check = () => {
      this.watchdog = null;
      if (!this.waiting.size) return;
      const quiet = performance.now() - this.lastHeard;
      if (quiet < WATCHDOG_MS) this.watchdog = setTimeout(check, WATCHDOG_MS - quiet);
      else this.stuck();
    };
    this.watchdog = setTimeout(check, WATCHDOG_MS);
  }

  // The worker is stuck in the pattern it started last: end it, and go on without that pattern (and
  // without it again, whenever it comes back in this page).
  stuck() {
    const stuck = this.patterns.find((pattern) => pattern.rule === this.running);
    this.endWorker();
    if (stuck === undefined) return;
    this.tooSlow.add(stuck.source);
    this.errors = this.errors.concat({ rule: stuck.rule, message: tooSlowMessage(stuck.rule) });
    this.start(this.patterns.filter((pattern) => pattern !== stuck));
    this.onErrors();
    this.onReset();
  }
}

function tooSlowMessage(rule) {
  return rule === -1
    ? "Highlighting the filter's matches took too long on a line, so it is turned off."
    : "This highlight rule took too long on a line, so it is turned off. Write a simpler one.";
}

const NO_MARKS = Object.freeze({ colour: -1, marks: Object.freeze([]) });
