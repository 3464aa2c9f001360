// Log text drawn as text: control characters, bidirectional formatting and invisible characters are
// shown escaped (`\x07`, `\u202e`) in a style of their own, so log text can neither hide nor reorder what
// the page shows. In messages, ANSI colour codes become styles (log_ansi) and other escape sequences
// are dropped; an ESC that starts no sequence is shown escaped. Highlights (log_highlight) are <mark>
// elements around the parts they cover. Only text nodes, and spans and marks with classes from
// constant lists, are made, never HTML.
import { SgrStyle } from "log_ansi";
import { UNSAFE_CHARACTER, UNSAFE_CHARACTERS, escaped, printableText } from "printable_text";


// ESC and then: a CSI sequence (parameters, then intermediates and a final byte; an SGR one ends in
// "m"), a string sequence (OSC, DCS, SOS, PM, APC) ended by BEL or ST, or a short sequence (with
// intermediates, or one byte that introduces none of the others).
const ESCAPE_SEQUENCE = /\x1b(?:\[([0-?]*)([ -\/]*[@-~])|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|[ -\/]+[0-~]|[0-OQ-WYZ\\`-~])/y;
const ESCAPE_SEQUENCES = new RegExp(ESCAPE_SEQUENCE.source, "g");

// Nodes one text may make (escapes, colour runs, highlight marks, and the text between them). Past it,
// the rest is one text node: escapes written out as plain text, colours and marks left out. Made one
// by one, a row of 21,666 zero-width spaces (a 64 KB message) took Chromium a second to draw, and
// anyone who can send could freeze every viewer's tab so (16,000 pieces of text split by escape
// sequences that draw nothing, too). A closed row shows one line; an opened one (a reader's click,
// one row) shows all of it, and coloured output of hundreds of lines (a test run's) needs more.
export const MAX_NODES_PER_TEXT = 256;
export const MAX_NODES_PER_OPEN_TEXT = 2048;

function escapeElement(character) {
  const span = document.createElement("span");
  span.className = "bl-escape";
  span.textContent = escaped(character);
  return span;
}

// The classes of a highlight's <mark>, by its class index: the palette's six colours, then the filter's match.
const MARK_CLASSES = Object.freeze([0, 1, 2, 3, 4, 5].map((index) => `bl-hl bl-hl-${index}`).concat("bl-hl bl-hl-match"));

// `content` (text or an element) in a span of `className`, or as it is when there is none.
function styledRun(content, className) {
  if (!className) return content;
  const span = document.createElement("span");
  span.className = className;
  span.append(content);
  return span;
}

function markElement(content, cls) {
  const mark = document.createElement("mark");
  mark.className = MARK_CLASSES[cls];
  mark.append(content);
  return mark;
}

// Appends what a message shows, piece by piece, to `parent`, in <mark>s where `marks` ([start, end,
// cls, …], sorted, offsets in the text as shown: without escape sequences) say.
class MarkedWriter {
  constructor(parent, marks, maxNodes) {
    this.parent = parent;
    this.marks = marks;
    this.next = 0;    // the first mark that does not end before `offset`
    this.offset = 0;  // how much of the shown text was appended
    this.made = 0;    // nodes made, at most `maxNodes` (see MAX_NODES_PER_TEXT)
    this.maxNodes = maxNodes;
  }

  get full() {
    return this.made >= this.maxNodes;
  }

  append(node) {
    this.parent.append(node);
    this.made += typeof node === "string" ? 1 : node.firstChild instanceof Element ? 3 : 2;  // with its text
  }

  // The mark at `position`, as [start, end, cls], or the next one after it; null when none is left.
  markFrom(position) {
    const marks = this.marks;
    while (this.next < marks.length && marks[this.next + 1] <= position) this.next += 3;
    if (this.next >= marks.length || !(marks[this.next + 2] in MARK_CLASSES)) return null;
    return [marks[this.next], marks[this.next + 1], marks[this.next + 2]];
  }

  text(run, className) {
    let at = 0;
    while (at < run.length) {
      if (this.full) {
        this.parent.append(run.slice(at));
        break;
      }
      const mark = this.markFrom(this.offset + at);
      const inside = mark !== null && mark[0] <= this.offset + at;
      const until = mark === null ? run.length : Math.min(run.length, (inside ? mark[1] : mark[0]) - this.offset);
      const piece = run.slice(at, until);
      this.append(styledRun(inside ? markElement(piece, mark[2]) : piece, className));
      at = until;
    }
    this.offset += run.length;
  }

  // One unsafe character, shown escaped: it counts as one character of the shown text.
  escape(character) {
    const mark = this.markFrom(this.offset);
    const element = escapeElement(character);
    this.append(mark !== null && mark[0] <= this.offset ? markElement(element, mark[2]) : element);
    this.offset += 1;
  }
}

// `text` as it reads on the page: without its escape sequences (what the filter searches).
export function withoutEscapeSequences(text) {
  return text.includes("\x1b") ? text.replace(ESCAPE_SEQUENCES, "") : text;
}

// Append `text` to `parent` with its colour codes as styles, its other escape sequences dropped and
// its unsafe characters shown escaped; `marks` (see MarkedWriter) highlight parts of it; at most
// `maxNodes` nodes.
export function appendColoured(parent, text, marks = NO_MARKS, maxNodes = MAX_NODES_PER_TEXT) {
  if (!marks.length && !UNSAFE_CHARACTER.test(text)) {
    parent.append(text);
    return;
  }
  const writer = new MarkedWriter(parent, marks, maxNodes);
  const style = new SgrStyle();
  let start = 0;  // where the text not yet appended starts
  UNSAFE_CHARACTERS.lastIndex = 0;
  for (let match; (match = UNSAFE_CHARACTERS.exec(text)) !== null;) {
    if (match.index > start) writer.text(text.slice(start, match.index), style.className);
    if (writer.full) {
      parent.append(printableText(withoutEscapeSequences(text.slice(match.index))));
      return;
    }
    ESCAPE_SEQUENCE.lastIndex = match.index;
    const sequence = match[0] === "\x1b" ? ESCAPE_SEQUENCE.exec(text) : null;
    if (sequence === null) {
      writer.escape(match[0]);
      start = match.index + 1;
    } else {
      if (sequence[2] === "m") style.apply(sequence[1]);
      start = UNSAFE_CHARACTERS.lastIndex = match.index + sequence[0].length;
    }
  }
  if (start < text.length) writer.text(text.slice(start), style.className);
}

const NO_MARKS = Object.freeze([]);

// Append `text` to `parent`, its unsafe characters shown escaped, in at most `maxNodes` nodes.
export function appendEscaped(parent, text, maxNodes = MAX_NODES_PER_TEXT) {
  if (!UNSAFE_CHARACTER.test(text)) {
    parent.append(text);
    return;
  }
  let start = 0;
  let made = 0;
  for (const match of text.matchAll(UNSAFE_CHARACTERS)) {
    if (made >= maxNodes) {
      parent.append(printableText(text.slice(start)));
      return;
    }
    if (match.index > start) {
      parent.append(text.slice(start, match.index));
      made += 1;
    }
    parent.append(escapeElement(match[0]));
    made += 2;  // the element and its text
    start = match.index + 1;
  }
  if (start < text.length) parent.append(text.slice(start));
}

