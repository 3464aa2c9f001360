// One entry drawn as a row: toggle, time, level, program and message; open, its whole message and
// its fields as JSON. Log text is data: every value is set as text (log_text), never parsed as HTML.
import { MAX_NODES_PER_OPEN_TEXT, MAX_NODES_PER_TEXT, appendColoured, appendEscaped } from "log_text";
import { streamMark } from "stream_labels";
import { columnCells } from "log_columns";

// A message longer than this (or of several lines, or with fields) can be opened.
const LONG_MESSAGE = 120;

function pad(number, width) {
  return String(number).padStart(width, "0");
}

// Today, in UTC or local time, as [start, end) in ms since the epoch: a time outside it is shown with its date.
export function todaySpan(utc, now = new Date()) {
  if (utc) {
    const [year, month, day] = [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()];
    return [Date.UTC(year, month, day), Date.UTC(year, month, day + 1)];
  }
  const [year, month, day] = [now.getFullYear(), now.getMonth(), now.getDate()];
  return [new Date(year, month, day).getTime(), new Date(year, month, day + 1).getTime()];
}

// `10:00:00.123`, or with its date `2026-11-25 10:00:00.123`; in UTC with a `Z`.
export function formatTime(date, utc, withDate) {
  const [year, month, day, h, m, s, ms] = utc
    ? [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(),
      date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()]
    : [date.getFullYear(), date.getMonth(), date.getDate(),
      date.getHours(), date.getMinutes(), date.getSeconds(), date.getMilliseconds()];
  const time = `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(ms, 3)}${utc ? "Z" : ""}`;
  return withDate ? `${pad(year, 4)}-${pad(month + 1, 2)}-${pad(day, 2)} ${time}` : time;
}

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// An element showing log text, its unsafe characters escaped (see log_text).
function logTextElement(tag, className, text) {
  const element = el(tag, className);
  appendEscaped(element, text, MAX_NODES_PER_OPEN_TEXT);  // only in an opened row
  return element;
}

// The copy button's icon is drawn by the stylesheet; its label says what it does, or that it did it.
const COPY_LABEL = "Copy this line";
const COPIED_LABEL = "Copied";
// The link button copies a link that opens the page at this line (log_link).
export const LINK_LABEL = "Copy a link to this line";

function copyButton(className = "bl-copy", label = COPY_LABEL) {
  const button = el("button", className);
  button.type = "button";
  button.tabIndex = -1;  // a stop of Tab only while its row has the focus (setButtonsTabbable)
  button.title = label;
  button.setAttribute("aria-label", label);
  return button;
}

const NOT_COPIED_LABEL = "Not copied: the browser refused";

// Show on `button` that its row (or its link) was copied (a check mark: `true`), that the browser refused
// (its icon in red: "failed"), or go back to its icon (`false`).
export function showCopied(button, copied, idle = COPY_LABEL) {
  const label = copied === true ? COPIED_LABEL : copied === "failed" ? NOT_COPIED_LABEL : idle;
  button.toggleAttribute("data-copied", copied === true);
  button.toggleAttribute("data-copy-failed", copied === "failed");
  button.title = label;
  button.setAttribute("aria-label", label);
}

const NO_COLUMNS = Object.freeze([]);

// A row that a highlight rule matched is marked in the rule's colour (the first rule's, if several).
const ROW_MARKS = Object.freeze([0, 1, 2, 3, 4, 5].map((index) => `bl-marked-${index}`));

// The part of the message a row shows: the first line of a closed row; all of an open one.
function shownMessage(entry, open) {
  const newline = open ? -1 : entry.message.indexOf("\n");
  return newline < 0 ? entry.message : entry.message.slice(0, newline);
}

// Mark `row` (of `entry`, open or not) and its message as `highlight` ({colour, marks}) says; null: none.
export function paintHighlight(row, entry, open, highlight) {
  row.classList.remove(...ROW_MARKS);
  const message = row.querySelector(".bl-message");
  message.replaceChildren();
  writeMessage(row, message, entry, open, highlight);
}

// Mark `row` as `highlight` says and write its message into `message`, which is empty.
function writeMessage(row, message, entry, open, highlight) {
  if (highlight && highlight.colour in ROW_MARKS) row.classList.add(ROW_MARKS[highlight.colour]);
  appendColoured(message, shownMessage(entry, open), highlight ? highlight.marks : undefined,
    open ? MAX_NODES_PER_OPEN_TEXT : MAX_NODES_PER_TEXT);
}

// Every row starts as a copy of this one: cloning a tree costs a fraction of building it element by
// element, and a live view builds a row for every line. Rows are <bl-row> elements, not <div>s:
// Quasar's `div:nth-child(1 of …)` rules would otherwise make each row dropped at the top restyle
// all the rows below it. A row takes the keyboard's focus (the arrow keys: log_list), which gives it its
// buttons.
const ROW_SKELETON = (() => {
  const row = el("bl-row", "bl-row");
  row.tabIndex = -1;
  row.setAttribute("role", "treeitem");  // of the list's tree (log_view): opened and closed with Enter
  const line = el("div", "bl-line");
  line.append(el("span", "bl-toggle"), el("span", "bl-time"), el("span", "bl-level"), el("span", "bl-program"),
    el("span", "bl-message"));
  row.append(line);
  return row;
})();

// Make `row`'s buttons stops of Tab (while the row has the keyboard's focus), or not.
export function setButtonsTabbable(row, tabbable) {
  for (const button of row.querySelectorAll(".bl-copy, .bl-link")) button.tabIndex = tabbable ? 0 : -1;
}

// The parts of a row a screen reader names it by, in their order: not its toggle's sign, nor its buttons.
const MAX_NAME_CHARS = 1000;  // a message may be a megabyte long
const NAMED_PARTS = ".bl-stream-mark, .bl-time, .bl-level, .bl-program, .bl-col, .bl-message, .bl-more";

// Name `row` by its texts (a column by its key and value), for the keyboard's focus: named from all it
// holds, a row was read with its sign (▸), its `{…}` and its buttons' labels.
export function nameRow(row) {
  const parts = Array.from(row.querySelectorAll(NAMED_PARTS), (part) =>
    part.classList.contains("bl-col") ? part.title : part.textContent).filter((text) => text.trim());
  if (row.querySelector(".bl-fields, .bl-fields-json")) parts.push("(with fields)");
  const name = parts.join(" ");
  row.setAttribute("aria-label", name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS)}…` : name);
}

// Give `row` its copy and link buttons, if it has none yet. A row gets them when the pointer or the
// focus comes to it (always, where there is no hover to wait for: log_list): made in every row, the two
// cost a third of the p99 from a POST to the screen at 200 lines/s, in style and layout of new rows.
export function addRowButtons(row) {
  const line = row.firstChild;
  if (line.lastChild.classList.contains("bl-link")) return;
  line.append(copyButton(), copyButton("bl-link", LINK_LABEL));
}

// The row element of `entry` (which has its serial, _n), open or not, its time in UTC or local time,
// with its date or not, highlighted as `highlight` says (see paintHighlight), with the values of
// `columns` (dotted paths of its fields, log_columns) after its program, and its buttons if `buttons`.
export function renderRow(entry, open, utc, dated, highlight = null, columns = NO_COLUMNS, buttons = false) {
  const row = ROW_SKELETON.cloneNode(true);
  const line = row.firstChild;
  const toggle = line.firstChild;
  const time = toggle.nextSibling;
  const level = time.nextSibling;
  const program = level.nextSibling;
  const message = program.nextSibling;
  if (open) row.classList.add("bl-open");
  row.dataset.id = entry.id;
  row.dataset.serial = entry._n;
  row.dataset.level = entry.level;
  const moment = new Date(entry.ts * 1000);
  time.textContent = formatTime(moment, utc, dated);
  time.title = moment.toISOString();
  const newline = entry.message.indexOf("\n");
  const multiLine = newline >= 0;
  const expandable = multiLine || Boolean(entry.fields) || entry.message.length > LONG_MESSAGE;
  if (expandable) toggle.textContent = open ? "▾" : "▸";
  level.className = `bl-level bl-level-${entry.level.toLowerCase()}`;
  level.textContent = entry.level;
  appendEscaped(program, entry.program);
  if (entry._s !== undefined) toggle.after(streamMark(entry._s));  // a merged view's row: its stream
  if (columns.length) message.before(columnCells(entry, columns));
  if (entry.fields && !open) message.after(el("span", "bl-fields", "{…}"));
  if (multiLine && !open) message.after(el("span", "bl-more", `+${entry.message.split("\n").length - 1} lines`));
  if (open && entry.fields) row.append(logTextElement("pre", "bl-fields-json", JSON.stringify(entry.fields, null, 2)));
  if (expandable) {
    row.classList.add("bl-expandable");
    row.setAttribute("aria-expanded", String(open));
  }
  writeMessage(row, message, entry, open, highlight);
  if (buttons) addRowButtons(row);
  return row;
}
