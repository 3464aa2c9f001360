// Log text drawn as text: control characters and bidirectional formatting characters are shown
// escaped (`\x07`, `\u202e`) in a style of their own, so log text can neither hide nor reorder what
// the page shows. Only text nodes and spans of a constant class are made, never HTML.

// Mirrors UNSAFE_CHARACTERS of `printable` in dashboard/client/tail.py (`bunnylogs tail`): C0 controls
// but tab and newline, DEL, C1 controls, and the bidi marks, embeddings, overrides and isolates.
// tests/unit/test_unsafe_characters.py checks that the two sets are the same.
const UNSAFE_CHARACTER = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_CHARACTERS = new RegExp(UNSAFE_CHARACTER.source, "g");

// `\xNN` or `\uNNNN`, as `printable` writes it.
function escaped(character) {
  const code = character.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

function escapeElement(character) {
  const span = document.createElement("span");
  span.className = "bl-escape";
  span.textContent = escaped(character);
  return span;
}

// Append `text` to `parent`, its unsafe characters shown escaped.
export function appendEscaped(parent, text) {
  if (!UNSAFE_CHARACTER.test(text)) {
    parent.append(text);
    return;
  }
  let start = 0;
  for (const match of text.matchAll(UNSAFE_CHARACTERS)) {
    if (match.index > start) parent.append(text.slice(start, match.index));
    parent.append(escapeElement(match[0]));
    start = match.index + 1;
  }
  if (start < text.length) parent.append(text.slice(start));
}
