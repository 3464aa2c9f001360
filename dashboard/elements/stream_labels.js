// This browser's own names for streams, the streams it opened lately, and the streams of this page.
// Kept in localStorage and never sent to the server. A label is data: it is only ever set as text
// (textContent), and a colour comes from a fixed palette by the stream's index in the page.
import { printableText } from "printable_text";

const LABELS_KEY = "bunnylogs-labels";  // {view key: label}: a stream's write and view pages share it
const RECENT_KEY = "bunnylogs-recent";  // [{path, streams: [{short, label_key, read_only}], at}], newest first
const CHANGED = "bunnylogs-labels-changed";
export const MAX_LABEL_CHARS = 40;
export const MAX_RECENT = 20;
// Each stream of a merged view has one of these colours (bunnylogs.css: .bl-stream-0 … -7).
export const PALETTE_SIZE = 8;
const MAX_STREAMS_KEPT = 8;  // of a recent entry (a merged view shows no more)
const SHORT = /^[0-9a-f]{8}[0-9a-f-]{0,28}$/;  // the start of a key: longer where two keys of a view start alike
const KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PATH = /^\/[0-9a-f+-]{36,400}$/;

function read(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key));
    return value === null ? fallback : value;
  } catch {
    return fallback;  // storage refused (privacy settings) or garbled
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or refused: the names last as long as the page
  }
}

// --- labels -----------------------------------------------------------------------------------------
function labels() {
  const stored = read(LABELS_KEY, {});
  return stored && typeof stored === "object" && !Array.isArray(stored) ? stored : {};
}

// The label this browser gave the stream whose view key is `labelKey`, as typed (to edit it), or "".
export function typedLabel(labelKey) {
  const label = labels()[labelKey];
  return typeof label === "string" ? label.slice(0, MAX_LABEL_CHARS) : "";
}

// The same label as shown: its control and bidi characters written as escapes, as in log text (typed or
// pasted, they reordered the name in every place it shows).
export function labelOf(labelKey) {
  return printableText(typedLabel(labelKey));
}

// Name the stream (by its view key) in this browser; an empty label forgets the name.
export function setLabel(labelKey, label) {
  if (!KEY.test(labelKey)) return;
  const all = labels();
  const text = String(label).trim().slice(0, MAX_LABEL_CHARS);
  if (text) all[labelKey] = text; else delete all[labelKey];
  write(LABELS_KEY, all);
  window.dispatchEvent(new Event(CHANGED));
}

// Call `changed` when a label changes, in this tab or another; returns a function that stops it.
export function onLabelsChanged(changed) {
  const onStorage = (event) => { if (event.key === LABELS_KEY || event.key === RECENT_KEY) changed(); };
  window.addEventListener(CHANGED, changed);
  window.addEventListener("storage", onStorage);
  return () => {
    window.removeEventListener(CHANGED, changed);
    window.removeEventListener("storage", onStorage);
  };
}

// --- this page's streams ------------------------------------------------------------------------------
let pageStreams = [];  // [{short, label_key, read_only}], by index

export function setPageStreams(streams) {
  pageStreams = Array.isArray(streams) ? streams : [];
}

// The indexes in this page of the streams with these short keys (a merged view's hidden streams).
export function hiddenStreamIndexes(shorts) {
  const hidden = new Set(Array.isArray(shorts) ? shorts : []);
  const indexes = new Set();
  pageStreams.forEach((stream, index) => { if (hidden.has(stream.short)) indexes.add(index); });
  return indexes;
}

// A stream's name in this page: its label in this browser, else the first characters of its key (as many as
// tell this page's streams apart: stream_keys.short_keys).
export function streamName(index) {
  const stream = pageStreams[index];
  if (stream === undefined) return String(index + 1);
  return labelOf(stream.label_key) || stream.short;
}

// The CSS class of a stream's colour.
export function colourClass(index) {
  return `bl-stream-${Number(index) % PALETTE_SIZE}`;
}

// The mark at the start of a row of stream `index`: its colour and its name, as text.
export function streamMark(index) {
  const mark = document.createElement("span");
  mark.className = `bl-stream-mark ${colourClass(index)}`;
  mark.dataset.stream = index;
  mark.textContent = streamName(index);
  mark.title = mark.textContent;
  return mark;
}

// Put each stream's current name in the marks drawn under `root`.
export function renameMarks(root) {
  for (const mark of root.querySelectorAll(".bl-stream-mark")) {
    const name = streamName(Number(mark.dataset.stream));
    if (mark.textContent !== name) {
      mark.textContent = name;
      mark.title = name;
    }
  }
}

// --- recently opened --------------------------------------------------------------------------------
function validStream(stream) {
  return stream && SHORT.test(stream.short) && KEY.test(stream.label_key);
}

// The pages this browser opened lately, newest first (what storage holds that makes sense).
export function recentPages() {
  const stored = read(RECENT_KEY, []);
  if (!Array.isArray(stored)) return [];
  return stored.filter((page) => page && typeof page.path === "string" && PATH.test(page.path)
    && Array.isArray(page.streams) && page.streams.length && page.streams.every(validStream)).slice(0, MAX_RECENT);
}

// Remember that this browser opened the page at `path`, showing `streams` (as setPageStreams takes them).
export function rememberPage(path, streams) {
  if (!PATH.test(path) || !Array.isArray(streams) || !streams.length || !streams.every(validStream)) return;
  const kept = streams.slice(0, MAX_STREAMS_KEPT).map(({ short, label_key, read_only }) =>
    ({ short, label_key, read_only: Boolean(read_only) }));
  const others = recentPages().filter((page) => page.path !== path);
  write(RECENT_KEY, [{ path, streams: kept, at: Date.now() }, ...others].slice(0, MAX_RECENT));
}

// Forget the page at `path` from the recent list.
export function forgetPage(path) {
  write(RECENT_KEY, recentPages().filter((page) => page.path !== path));
  window.dispatchEvent(new Event(CHANGED));
}
