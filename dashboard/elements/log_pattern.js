// The text patterns the page compiles from what a viewer typed or a link carried: the filter's and
// the highlight rules'. A regular expression that is invalid, or that nests repeats, is refused with
// a message saying why, never thrown.

// What a refused nested repeat reads as in the status bar.
const NESTED_REPEAT = "This regular expression repeats a group that repeats something, like (a+)+: " +
  "on a long line it can take longer than the page can wait. Write it without the nesting.";

// {pattern, error}: `text` as a RegExp with `flags` (plain text matched literally), or null and why not.
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

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Whether `source` repeats a group that itself holds a repeat, as (a+)+ or (\w*x)*: a backtracking
// engine can take time exponential in a line's length on such a pattern, and a link can carry it
// (`?q=...&re=1`). Escapes and character classes are skipped; `?` is not counted as a repeat.
function repeatsARepeat(source) {
  const open = [];  // for each open group: whether it holds a repeat so far
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
    } else if (c === ")") {
      closedHeldRepeat = open.pop() || false;
      if (closedHeldRepeat && open.length) open[open.length - 1] = true;
    } else if (c === "*" || c === "+" || (c === "{" && /^\{\d*,\d*\}/.test(source.slice(i)))) {
      if (closedHeldRepeat) return true;
      if (open.length) open[open.length - 1] = true;
    } else if (c !== "?") {
      closedHeldRepeat = false;
    }
  }
  return false;
}
