// Text from outside (log text, a stream's name) written so that it can neither hide nor reorder what the
// page shows: its control, bidirectional formatting and invisible characters as escapes (`\x07`, `\u202e`).
// log_text draws them in a style of their own; printableText writes them into a plain string.

// Mirrors UNSAFE_CHARACTERS of dashboard/client/printable.py (`bunnylogs tail`): C0 controls
// but tab and newline, DEL, C1 controls, the bidi marks, embeddings, overrides and isolates, the line
// and paragraph separators (U+2028, U+2029), and characters that show nothing: soft hyphen, Mongolian
// vowel separator, zero-width space, word joiner and the invisible operators (U+2060-U+2064), the
// deprecated format characters (U+206A-U+206F), byte order mark, and the interlinear annotation marks
// (U+FFF9-U+FFFB). (The zero-width joiner and non-joiner stay: emoji and several scripts need them, and
// the tag characters: flags of regions are made of them.)
// tests/unit/test_unsafe_characters.py checks that the two sets are the same.
export const UNSAFE_CHARACTER = /[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/;
export const UNSAFE_CHARACTERS = new RegExp(UNSAFE_CHARACTER.source, "g");

// `\xNN` or `\uNNNN`, as `printable` writes it.
export function escaped(character) {
  const code = character.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

// `text` with its unsafe characters written as escapes, for where only a string goes (an <option>'s label,
// a stream's name).
export function printableText(text) {
  return text.replace(UNSAFE_CHARACTERS, escaped);
}
