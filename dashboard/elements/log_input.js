// Keys and clicks: the view's keyboard shortcuts, and what a click on a row does (the copy button
// copies the row; elsewhere on a row that can open, it opens or closes).
import { copyRow } from "log_export";
import { showCopied } from "log_row_element";

const COPIED_MS = 1200;

// A menu or dialog that is open owns every key (Esc closes it first).
function menuIsOpen() {
  return document.querySelector(".q-menu, .q-dialog") !== null;
}

function isTextField(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

// Whether `target`, the focused element, is a control (a button, chip, switch, select, panel header…)
// rather than the page or the log itself: a control owns Space, to act on itself.
function isControl(target) {
  return target instanceof Element && target !== document.body && target !== document.documentElement &&
    !target.classList.contains("bl-scroller");
}

// The shortcut `event` stands for: "Escape", "Space", "/" or "End"; else null. A text field owns
// every key (the filter clears itself on Esc), a control owns Space, an open menu owns them all.
function shortcutOf(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (menuIsOpen() || isTextField(event.target)) return null;
  if (event.key === "Escape") return "Escape";
  if (event.key === " ") return isControl(event.target) ? null : "Space";
  if (event.key === "/" || event.key === "End") return event.key;
  return null;
}

// Call onKey(shortcut) for each shortcut pressed on the page; returns a function that stops listening.
export function listenForKeys(onKey) {
  const onKeyDown = (event) => {
    const shortcut = shortcutOf(event);
    if (shortcut === null) return;
    if (shortcut !== "Escape") event.preventDefault();
    onKey(shortcut);
  };
  document.addEventListener("keydown", onKeyDown);
  return () => document.removeEventListener("keydown", onKeyDown);
}

// Clicks on the rows in `container`: entryOf(serial) finds a row's entry, toggle(serial) opens or closes it.
export function listenForRowClicks(container, { entryOf, toggle }) {
  container.addEventListener("click", (event) => {
    const row = event.target.closest(".bl-row");
    if (!row) return;
    const serial = Number(row.dataset.serial);
    const entry = entryOf(serial);
    if (!entry) return;
    const copy = event.target.closest(".bl-copy");
    if (copy) {
      copyRow(entry).then(() => {
        showCopied(copy, true);
        setTimeout(() => showCopied(copy, false), COPIED_MS);
      });
      return;
    }
    // Selecting text in a row is not a click on it.
    if (!row.classList.contains("bl-expandable") || window.getSelection().toString()) return;
    toggle(serial);
  });
}
