// Fields: an entry's `fields`, or its message when that is itself a JSON object (the message shows as
// it is). Their keys seen so far, as dotted paths (`user.id`), for the columns; the value at a path as
// text; and the filter's `key=value`, `key!=value` and `key~regex` conditions on them. Keys and values
// are data: kept in Sets and looked up as own properties only (a key `__proto__` or `constructor` is
// a key like any other), and shown as text (log_columns).
import { MAX_FILTER_PROGRAM, compileFilterPattern, tooLargeToFilter } from "log_pattern";

export const MAX_KEYS = 200;  // keys remembered, at most
const MAX_DEPTH = 4;          // levels of nested objects walked for keys and paths

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// The message as a JSON object, or null (parsed once per entry).
function messageObject(entry) {
  if (entry._json === undefined) {
    entry._json = null;
    if (entry.message.trimStart().startsWith("{")) {
      try {
        const value = JSON.parse(entry.message);
        if (isObject(value)) entry._json = value;
      } catch {
        // not JSON after all: a message like any other
      }
    }
  }
  return entry._json;
}

// The value at `path` in `object`: a key of that name, else a key up to a dot and the rest of the
// path in the object under it (so `a.b` finds {"a.b": 1} and {"a": {"b": 1}}); undefined if none.
function lookup(object, path, depth) {
  if (Object.hasOwn(object, path)) return object[path];
  if (depth + 1 >= MAX_DEPTH) return undefined;
  for (let dot = path.indexOf("."); dot > 0; dot = path.indexOf(".", dot + 1)) {
    const head = path.slice(0, dot);
    if (Object.hasOwn(object, head) && isObject(object[head])) {
      const found = lookup(object[head], path.slice(dot + 1), depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

// The value at a dotted path: in the entry's fields, else in its message's JSON object; undefined if none.
export function valueAt(entry, path) {
  const found = entry.fields ? lookup(entry.fields, path, 0) : undefined;
  if (found !== undefined) return found;
  const own = messageObject(entry);
  return own === null ? undefined : lookup(own, path, 0);
}

// A value as a column shows it and a condition compares it: strings as they are, the rest as compact JSON.
export function valueText(value) {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

// The dotted paths of the values in the entries' fields seen so far, at most MAX_KEYS.
export class FieldKeys {
  // onNew() is called when keys were added.
  constructor(onNew) {
    this.keys = new Set();
    this.onNew = onNew;
  }

  note(entries) {
    if (this.keys.size >= MAX_KEYS) return;
    const before = this.keys.size;
    for (const entry of entries) {
      if (entry.fields) this.walk(entry.fields, "", 0);
      const own = messageObject(entry);
      if (own !== null) this.walk(own, "", 0);
      if (this.keys.size >= MAX_KEYS) break;
    }
    if (this.keys.size > before) this.onNew();
  }

  walk(object, prefix, depth) {
    for (const key of Object.keys(object)) {
      if (this.keys.size >= MAX_KEYS) return;
      const value = object[key];
      if (isObject(value) && depth + 1 < MAX_DEPTH && Object.keys(value).length) this.walk(value, `${prefix}${key}.`, depth + 1);
      else this.keys.add(`${prefix}${key}`);
    }
  }
}

// key=value, key!=value, key~regex; a value in double quotes may hold spaces.
const TOKENS = /(?:[^\s"]+|"[^"]*")+/g;
const CONDITION = /^([^\s=!~"]+)(!=|=|~)(?:"([^"]*)"|([^\s"]*))$/;

// The plain filter text split into its field conditions and the rest (the text searched), with the
// first error (an invalid `~` pattern) or null. Text without conditions stays exactly as typed.
export function parseFilterText(text) {
  const conditions = [];
  const words = [];
  let error = null;
  let instructions = 0;  // of the `~` patterns kept
  for (const [token] of text.matchAll(TOKENS)) {
    const match = CONDITION.exec(token);
    if (match === null) {
      words.push(token);
      continue;
    }
    const [, path, op, quoted, bare] = match;
    const value = quoted ?? bare;
    const condition = { path, op, value, pattern: null };
    if (op === "~") {  // an invalid pattern is left out, as an invalid regular expression filter is
      const compiled = compileFilterPattern(value);
      error = error ?? compiled.error;
      if (compiled.pattern === null) continue;
      // The bound on a pattern's size holds for all of them together: each is run on every row.
      instructions += compiled.pattern.programSize();
      if (instructions > MAX_FILTER_PROGRAM) {
        error = error ?? tooLargeToFilter(instructions);
        continue;
      }
      condition.pattern = compiled.pattern;
    }
    conditions.push(condition);
  }
  return conditions.length || error ? { text: words.join(" "), conditions, error } : { text, conditions, error };
}

// Whether the entry passes every condition; a path it has no value at fails it.
export function meetsConditions(entry, conditions) {
  for (const { path, op, value, pattern } of conditions) {
    const found = valueAt(entry, path);
    if (found === undefined) return false;
    const shown = valueText(found);
    if (op === "=" ? shown !== value : op === "!=" ? shown === value : !pattern.test(shown)) return false;
  }
  return true;
}
