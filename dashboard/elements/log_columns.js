// Columns from fields: a bar above the rows, shown once a row had fields (or a column was chosen),
// with the columns chosen (each a chip that removes it) and a select that adds any key seen so far
// (log_fields) as a column. Each row then shows those values, in that order, between its program and
// its message (on a phone, on a line of their own below it), as text: cut short by the page, whole in
// the cell's title; a missing value shows nothing. Only text nodes, constant classes and attributes
// holding text are made from keys and values.
import { appendEscaped } from "log_text";
import { printableText } from "printable_text";
import { FieldKeys, valueAt, valueText } from "log_fields";

const ADD_LABEL = "+ column…";
const REMOVE_LABEL = "Remove the column";
const MAX_CELL_CHARS = 200;  // a cell draws at most this much of its value (the title has more)
const MAX_TITLE_CHARS = 2000;
const KEYS_EVERY_MS = 500;
const MAX_OPTION_CHARS = 80;  // a key offered in the select shows at most this much of itself

// A field key as a one-line label: its unsafe characters, line breaks and tabs written as escapes.
function keyLabel(key) {
  return printableText(key).replace(/\n/g, "\\n").replace(/\t/g, "\\t");
}

function el(tag, className, text) {
  const element = document.createElement(tag);
  element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// The cells of `columns` (dotted paths) for `entry`.
export function columnCells(entry, columns) {
  const cells = el("span", "bl-cols");
  for (const path of columns) {
    const text = valueText(valueAt(entry, path));
    const cell = el("span", text ? "bl-col" : "bl-col bl-col-missing");
    appendEscaped(cell, text.slice(0, MAX_CELL_CHARS));
    if (text) cell.title = printableText(`${path}: ${text}`.slice(0, MAX_TITLE_CHARS));
    cells.append(cell);
  }
  return cells;
}

export class ColumnBar {
  // box: the bar's element (empty); columns: those chosen (from the page's URL), at most `max`, each key
  // at most `maxChars` long (as a link keeps them);
  // changed(columns) is told each change the reader makes.
  constructor(box, { columns, max, maxChars, changed }) {
    this.box = box;
    this.max = max;
    this.maxChars = maxChars;
    this.columns = columns.slice(0, max);
    this.changed = changed;
    this.keys = new FieldKeys(() => this.keysChanged());
    this.timeout = null;
    this.chips = el("span", "bl-col-chips");
    this.select = el("select", "bl-col-add");
    this.select.setAttribute("aria-label", "Add a field as a column");
    this.select.title = "Add a field as a column; filter by it with key=value, key!=value or key~regex";
    this.select.addEventListener("change", () => this.add(this.select.value));
    this.chips.addEventListener("click", (event) => {
      const button = event.target.closest(".bl-col-remove");
      if (button) this.remove(Number(button.dataset.index));
    });
    box.append(el("span", "bl-col-label", "Columns"), this.chips, this.select);
    this.render();
  }

  stop() {
    clearTimeout(this.timeout);
  }

  // Entries arrived (or came from above): remember their keys.
  note(entries) {
    this.keys.note(entries);
  }

  keysChanged() {
    if (this.timeout === null) this.timeout = setTimeout(() => { this.timeout = null; this.render(); }, KEYS_EVERY_MS);
  }

  add(path) {
    if (!path || this.columns.includes(path) || this.columns.length >= this.max) return;
    this.columns = [...this.columns, path];
    this.render();
    this.changed(this.columns);
  }

  remove(index) {
    if (!(index >= 0 && index < this.columns.length)) return;
    this.columns = this.columns.filter((_, i) => i !== index);
    this.render();
    this.changed(this.columns);
  }

  render() {
    this.box.hidden = !this.keys.keys.size && !this.columns.length;
    this.chips.replaceChildren(...this.columns.map((path, index) => {
      // The name in a span of its own, cut short with an ellipsis: as the chip's own text, a long key
      // pushed its remove button out of the chip, and the column could not be removed.
      const chip = el("span", "bl-col-chip");
      const name = el("span", "bl-col-name", keyLabel(path));
      chip.title = printableText(path.slice(0, MAX_TITLE_CHARS));
      chip.append(name);
      const remove = el("button", "bl-col-remove", "×");
      remove.type = "button";
      remove.dataset.index = String(index);
      remove.title = REMOVE_LABEL;
      remove.setAttribute("aria-label", printableText(`${REMOVE_LABEL} ${path}`));
      chip.append(remove);
      return chip;
    }));
    const offered = [...this.keys.keys].filter((key) => !this.columns.includes(key)).sort();
    this.select.replaceChildren(new Option(ADD_LABEL, ""), ...offered.map((key) => this.option(key)));
    this.select.value = "";
    this.select.disabled = !offered.some((key) => this.fitsLink(key)) || this.columns.length >= this.max;
  }

  // Whether a link keeps `key` as a column: at most maxChars characters, counted as Python counts them
  // (code points; an emoji is two of JavaScript's).
  fitsLink(key) {
    let count = 0;
    for (const _ of key) if (++count > this.maxChars) return false;
    return true;
  }

  // A key offered as a column; one longer than a link keeps (maxChars) is shown, cut short, and not chosen.
  option(key) {
    const label = keyLabel(key);
    const shown = label.length > MAX_OPTION_CHARS ? `${label.slice(0, MAX_OPTION_CHARS)}…` : label;
    if (this.fitsLink(key)) return new Option(shown, key);
    const option = new Option(`${shown} (too long for a column)`, key);
    option.disabled = true;
    return option;
  }
}
