// The status bar: connection state (the page's socket, and the log bus behind the server), lines received, lines shown, lines per second, paused and new,
// the filter's error, a highlight rule's error, and the empty view's hint. Texts only, set with textContent: constant words and
// numbers, never log text.
import { idMs } from "log_volume";
import { feedState } from "rows_feed";

const CONNECTION_POLL_MS = 250;
const RATE_WINDOW_MS = 5000;
const STATUS_EVERY_MS = 500;
// While lines keep coming the status texts change at most this often: each change lays out the page.
const BUSY_STATUS_MS = 100;
const NUMBER = new Intl.NumberFormat();  // toLocaleString() builds a formatter on every call
const STATE_TEXTS = { connecting: "connecting…", "bus-unavailable": "log bus unavailable — reconnecting…" };

// What resume will add, and what the filter hides of what arrived: "paused · 3 new (12 hidden by filter)".
function pausedText(shown, hidden) {
  const text = `paused · ${NUMBER.format(shown)} new`;
  return hidden ? `${text} (${NUMBER.format(hidden)} hidden by filter)` : text;
}

// Why the view shows no row, or null when it shows some: nothing arrived yet, lines wait for the reader
// to resume, the reader cleared it, or the filter hides every line held.
function emptyText(received, held, shown, waiting) {
  if (shown) return null;
  if (!received) return "Waiting for the first line…";
  if (!held && waiting) return "Paused — new lines will appear when you resume";
  if (!held) return "Cleared — new lines will appear here";
  return `No line matches the filter (${NUMBER.format(held)} hidden)`;
}

// Live lines per second, by the server's time of the lines that came in the last RATE_WINDOW_MS
// (arrivals: [when it came, each line's server time]): a backlog that comes at once, after an outage
// or a dropped socket, counts at the pace the server took it, not as a burst.
function linesPerSecond(arrivals, now) {
  let newest = -Infinity;
  for (const [, times] of arrivals) for (const time of times) newest = Math.max(newest, time);
  let count = 0;
  let oldest = newest;
  for (const [, times] of arrivals) {
    for (const time of times) {
      if (time > newest - RATE_WINDOW_MS) {
        count += 1;
        oldest = Math.min(oldest, time);
      }
    }
  }
  if (!count) return 0;
  const cameOver = now - arrivals[0][0];
  return count / (Math.min(RATE_WINDOW_MS, Math.max(1000, newest - oldest, cameOver)) / 1000);
}

// A text set again, even to the same words, lays the page out again (the status every STATUS_EVERY_MS).
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

export class StatusBar {
  // The elements are the component's refs; logRows (a LogRows) has the counts.
  constructor({ state, count, shown, rate, paused, filterError, highlightError, empty }, logRows) {
    this.refs = { state, count, shown, rate, paused, filterError, highlightError, empty };
    this.logRows = logRows;
    this.arrivals = [];     // [when they came, each live line's server time] for the rate
    this.busAvailable = true;  // as the server last said: false while its log bus (Redis) is away
    this.lastShown = -Infinity;
    this.timeout = null;
    this.frame = null;
    // An error cut to two lines shows whole when clicked or tapped (a touch screen shows no title), and
    // cut again on the next.
    for (const error of [filterError, highlightError]) {
      error.addEventListener("click", () => error.classList.toggle("bl-whole"));
    }
  }

  start() {
    this.connectionTimer = setInterval(() => this.showConnection(), CONNECTION_POLL_MS);
    this.timer = setInterval(() => this.show(), STATUS_EVERY_MS);
    this.showConnection();
    this.show();
  }

  stop() {
    clearInterval(this.connectionTimer);
    clearInterval(this.timer);
    clearTimeout(this.timeout);
    if (this.frame !== null) cancelAnimationFrame(this.frame);
  }

  arrived(entries) {
    this.arrivals.push([performance.now(), entries.map((entry) => idMs(entry.id))]);
  }

  // The status after new rows, in the frame that draws them: a frame of its own would lay the page out
  // again. While lines keep coming, at most every BUSY_STATUS_MS: a row that comes before then leaves
  // the status to the next row that comes after (at 20 lines/s every other one); if none comes, a
  // timer shows it BUSY_STATUS_MS late. The first rows take the empty view's hint away at once.
  request() {
    if (this.frame !== null) return;
    const wait = this.lastShown + BUSY_STATUS_MS - performance.now();
    if (wait <= 0 || !this.refs.empty.hidden) {
      this.frame = requestAnimationFrame(() => { this.frame = null; this.show(); });
    } else if (this.timeout === null) {
      this.timeout = setTimeout(() => { this.timeout = null; this.show(); }, wait + BUSY_STATUS_MS);
    }
  }

  show() {
    const now = performance.now();
    this.lastShown = now;
    clearTimeout(this.timeout);
    this.timeout = null;
    const { received, all, incoming, shown, paused, pending, pendingShown, filterError } = this.logRows;
    while (this.arrivals.length && now - this.arrivals[0][0] > RATE_WINDOW_MS) this.arrivals.shift();
    const rate = linesPerSecond(this.arrivals, now);
    const refs = this.refs;
    setText(refs.count, `${NUMBER.format(received)} line${received === 1 ? "" : "s"}`);
    setText(refs.shown, `${NUMBER.format(shown.length)} shown`);
    setText(refs.rate, `${rate < 10 ? rate.toFixed(1) : NUMBER.format(Math.round(rate))} lines/s`);
    refs.paused.hidden = !paused;
    setText(refs.paused, paused ? pausedText(pendingShown, pending.length - pendingShown) : "");
    refs.filterError.hidden = !filterError;
    setText(refs.filterError, filterError || "");
    refs.filterError.title = filterError || "";  // the text may be cut to two lines
    // Lines that arrived but are not drawn yet (the next frame's) are not "cleared".
    const empty = incoming.length ? null : emptyText(received, all.length, shown.length, pending.length > 0);
    refs.empty.hidden = empty === null;
    if (empty !== null) setText(refs.empty, empty);
  }

  // Why a highlight rule is turned off (constant words and the rule's number), or null.
  setHighlightError(text) {
    this.refs.highlightError.hidden = text === null;
    this.refs.highlightError.textContent = text || "";
    this.refs.highlightError.title = text || "";
  }

  setBusAvailable(available) {
    this.busAvailable = available;
    this.showConnection();
  }

  // The socket's state; while it is connected but the server's log bus is away, that instead.
  showConnection() {
    const socket = feedState();
    const state = socket === "connected" && !this.busAvailable ? "bus-unavailable" : socket;
    const label = this.refs.state;
    if (label.dataset.state === state) return;
    label.dataset.state = state;
    label.textContent = STATE_TEXTS[state] || state;
  }
}
