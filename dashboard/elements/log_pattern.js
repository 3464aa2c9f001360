// The text patterns the page compiles from what a viewer typed or a link carried: the filter's and
// the highlight rules'. A regular expression that is invalid, or that nests repeats, is refused with
// a message saying why, never thrown.
//
// The filter runs on the page's own thread, on log text anyone who can send may write, with a pattern
// a link may carry: its regular expressions run on RE2's engine (re2js, vendored: a JavaScript port
// of RE2), whose time grows with a line's length times the pattern's size, never exponentially or as
// a high power of the length, and which reads a pattern as the server's search of older lines does
// (google-re2). The browser's own engine backtracks: `a*a*a*a*b` took 20 s on a line of 200 `a`s.
// A pattern's size is bounded as the server's search bounds it: `[^z]{1000}` thirty times over took
// 50 s on a 60 KB line. At the bound a crafted pattern and row still take about 1 s per 64 KB of the
// row's text in Chromium (a row's fields can make it 1 MiB): only a worker could put a time limit on it.
// Highlights keep the browser's engine, in a worker the page ends when it takes too long (log_highlight).
import { RE2JS } from "re2js";

// The largest compiled filter pattern (re2js's count of instructions): counted repeats like {100}
// make programs large; the patterns people filter logs with are tens of instructions.
export const MAX_FILTER_PROGRAM = 1000;

// What a refused nested repeat reads as in the status bar.
const NESTED_REPEAT = "This regular expression repeats a group that repeats or alternates something, like " +
  "(a+)+ or (a|b)*: on a long line it can take longer than the page can wait. Write it without the nesting.";

export function compilePattern(text, regex, flags) {
  if (!regex) return { pattern: new RegExp(escapeRegExp(text), flags), error: null };
  if (repeatsARepeat(text)) return { pattern: null, error: NESTED_REPEAT };
  try {
    return { pattern: new RegExp(text, flags), error: null };
  } catch (error) {
    // Chromium's and Safari's messages already say "Invalid regular expression: …"; Firefox's do not.
    const message = /^invalid regular expression/i.test(error.message)
      ? error.message : `Invalid regular expression: ${error.message}`;
    return { pattern: null, error: message };
  }
}

// A filter's pattern (see above): {pattern, error}, where pattern.test(text) says whether it occurs in
// text, ignoring case.
export function compileFilterPattern(text) {
  if (repeatsARepeat(text)) return { pattern: null, error: NESTED_REPEAT };
  let pattern;
  try {
    pattern = RE2JS.compile(text, RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    // RE2JS quotes the pattern with the case flag it put before it: `(?i)(` for what the reader typed as `(`.
    const message = error.message.replace("`(?i)", "`");
    return { pattern: null, error: `Invalid regular expression: ${message} (RE2 syntax: no lookarounds or backreferences)` };
  }
  if (pattern.programSize() > MAX_FILTER_PROGRAM) return { pattern: null, error: tooLargeToFilter(pattern.programSize()) };
  return { pattern, error: null };
}

// What a filter's regular expressions of `size` instructions in all, over the bound, read as in the status bar.
export function tooLargeToFilter(size) {
  return `This regular expression is too large to filter with (${size} instructions, at most ` +
    `${MAX_FILTER_PROGRAM} in all of the filter's): use fewer or smaller counted repeats like {100}.`;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Whether `source` repeats a group that itself holds a repeat or an alternation, as (a+)+, (\w*x)*,
// (a|a)*b or (.*a){25}: a backtracking engine can take time exponential in a line's length on such
// a pattern, and a link can carry it (`?q=...&re=1`). Escapes and character classes are skipped;
// `*`, `+`, `{n}` (n > 1) and `{n,m}` repeat, `?` counts inside a group; `(?:`, `(?=`, `(?<name>` are groups.
function repeatsARepeat(source) {
  const open = [];  // for each open group: whether it holds a repeat or an alternation so far
  let closedHeldRepeat = false;  // the group that just closed held one
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      i++;
      closedHeldRepeat = false;
    } else if (c === "[") {
      i++;
      if (source[i] === "^") i++;
      if (source[i] === "]") i++;
      while (i < source.length && source[i] !== "]") i += source[i] === "\\" ? 2 : 1;
      closedHeldRepeat = false;
    } else if (c === "(") {
      open.push(false);
      closedHeldRepeat = false;
      const kind = /^\?(?:[:=!]|<[=!]|<[A-Za-z_$][\w$]*>)/.exec(source.slice(i + 1));
      if (kind) i += kind[0].length;
    } else if (c === ")") {
      closedHeldRepeat = open.pop() || false;
      if (closedHeldRepeat && open.length) open[open.length - 1] = true;
    } else if (c === "|") {
      if (open.length) open[open.length - 1] = true;
      closedHeldRepeat = false;
    } else if (c === "*" || c === "+" || (c === "{" && isCountedRepeat(source.slice(i)))) {
      if (closedHeldRepeat) return true;
      if (open.length) open[open.length - 1] = true;
    } else if (c === "?") {  // optional (or lazy): inside a repeated group it is a repeat, alone it repeats nothing
      if (open.length) open[open.length - 1] = true;
    } else {
      closedHeldRepeat = false;
    }
  }
  return false;
}

// `{n,m}`, `{n,}` or `{n}` with n above 1 at the start of `text`: a repeat ({1} and {0} repeat nothing).
function isCountedRepeat(text) {
  const count = /^\{(\d*)(,\d*)?\}/.exec(text);
  return count !== null && (count[2] !== undefined || Number(count[1]) > 1);
}
