// Rows as text, out of the page: one row on the clipboard as a line of text, and the shown rows
// downloaded as a .log text file or as .ndjson (one entry as JSON per line). On a merged view each
// line says which stream it is of: its name in the .log text, a "stream" field in .ndjson.
import { streamName } from "stream_labels";

const REVOKE_AFTER_MS = 10000;

// The line as text, for copying and for the .log download.
function asLogLine(entry) {
  const fields = entry.fields ? " " + JSON.stringify(entry.fields) : "";
  const stream = entry._s === undefined ? "" : ` [${streamName(entry._s)}]`;
  return `${new Date(entry.ts * 1000).toISOString()}${stream} ${entry.level} ${entry.program} ${entry.message}${fields}`;
}

// The entry as the server sent it, without what the page added to it.
function asWire(entry) {
  const wire = { id: entry.id, ts: entry.ts, level: entry.level, program: entry.program, message: entry.message };
  if (entry.fields) wire.fields = entry.fields;
  if (entry._s !== undefined) wire.stream = streamName(entry._s);
  return wire;
}

// Put `text` on the clipboard; rejects if the browser refused. The keyboard's focus stays where it was.
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain HTTP on another host has no clipboard API: the old way still works. Selecting the text takes
  // the focus, and removing it left the focus on the page's body (Tab started again at the top).
  const focused = document.activeElement;
  const area = document.createElement("textarea");
  area.value = text;
  area.readOnly = true;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } finally {
    area.remove();
    if (focused instanceof HTMLElement && focused !== document.body) focused.focus({ preventScroll: true });
  }
  if (!copied) throw new Error("the browser did not copy");
}

export function copyRow(entry) {
  return copyText(asLogLine(entry));
}

// Save `entries` as `<name>-<time>.log` or `.ndjson`.
export function downloadRows(entries, format, name) {
  const ndjson = format === "ndjson";
  const lines = ndjson ? entries.map((entry) => JSON.stringify(asWire(entry))) : entries.map(asLogLine);
  const blob = new Blob([lines.join("\n") + (lines.length ? "\n" : "")],
    { type: ndjson ? "application/x-ndjson" : "text/plain" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  link.download = `${name}-${stamp}.${ndjson ? "ndjson" : "log"}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), REVOKE_AFTER_MS);
}
