// Keys and clicks: the view's keyboard shortcuts, and what a click on a row does (the copy button
// copies the row, the link button a link to it; elsewhere on a row that can open, it opens or closes).
import { copyRow, copyText } from "log_export";
import { LINK_LABEL, showCopied } from "log_row_element";
import { lineLink } from "log_link";

const COPIED_MS = 1200;

// A menu or dialog that is open owns every key (Esc closes it first). A menu fading out after it closed
// owns none: for its quarter of a second, Home or End pressed at once after Esc went nowhere.
function menuIsOpen() {
  return document.querySelector(".q-menu:not(.q-transition--fade-leave-active), .q-dialog") !== null;
}

// Inputs that take no typing: a select's focus target is a read-only input.
const NOT_TYPED = ["button", "checkbox", "color", "file", "hidden", "image", "radio", "range", "reset", "submit"];

function isTextField(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === "TEXTAREA") return !target.readOnly;
  if (target.tagName !== "INPUT") return false;
  return !target.readOnly && !target.classList.contains("q-select__focus-target") && !NOT_TYPED.includes(target.type);
}

// What a control is: something that acts on Space itself (a button, link, field, chip, tab, switch,
// checkbox, panel header, menu item…). A container that took the focus from a click (Quasar's layout
// has tabindex -1) is none, nor is the log itself.
const CONTROL = [
  "button", "a[href]", "input", "textarea", "select", "[contenteditable]:not([contenteditable='false'])",
  ".q-chip--clickable", ".q-tab", ".q-toggle", ".q-checkbox", ".q-radio", ".q-field", ".q-item--clickable",
  ...["button", "tab", "switch", "checkbox", "radio", "option", "menuitem", "menuitemcheckbox", "menuitemradio",
    "combobox", "slider", "spinbutton", "link"].map((role) => `[role="${role}"]`),
].join(", ");

// Whether `target`, the focused element, is in a control rather than on the page or the log itself:
// a control owns Space, to act on itself.
function isControl(target) {
  return target instanceof Element && target.closest(CONTROL) !== null;
}

// A chip that can be clicked (a level chip is a toggle button): Quasar's acts on Enter only.
function clickableChip(target) {
  return target instanceof Element ? target.closest(".q-chip--clickable") : null;
}

// The shortcut `event` stands for: "Escape", "Space", "/", "End", "Home" or "PageUp"; else null. A text field owns
// every key (the filter clears itself on Esc), a control owns Space, an open menu owns them all.
function shortcutOf(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (menuIsOpen() || isTextField(event.target)) return null;
  if (event.key === "Escape") return "Escape";
  if (event.key === " ") return isControl(event.target) ? null : "Space";
  if (["/", "End", "Home", "PageUp"].includes(event.key)) return event.key;
  return null;
}

const SELECT_KEYS = ["/", "End", "Home", "PageUp"];
// Keys that scroll the page, which an open menu stays anchored above: in a window too low for the page, the
// page moved under the menu, which floated over the log away from its button.
const PAGE_SCROLL_KEYS = ["End", "Home", "PageUp", "PageDown"];

// Whether `event` would scroll the page under an open menu (one the select took for itself is prevented
// already). A one-line field keeps Home and End for its caret; it does nothing with PageUp and PageDown.
function scrollsUnderMenu(event) {
  if (!PAGE_SCROLL_KEYS.includes(event.key) || event.defaultPrevented || !menuIsOpen()) return false;
  if (!isTextField(event.target)) return true;
  return event.target.tagName === "INPUT" && (event.key === "PageUp" || event.key === "PageDown");
}

// Scroll the list of the menu the focus is in, as the key would have: at its end, the browser would go on
// to scroll the page, and a menu that does not scroll would leave the key to the page at once.
function scrollMenu(menu, key) {
  if (key === "Home") menu.scrollTop = 0;
  else if (key === "End") menu.scrollTop = menu.scrollHeight;
  else menu.scrollTop += (key === "PageDown" ? 0.9 : -0.9) * menu.clientHeight;
}

// ArrowDown and ArrowUp go from item to item of the open menu the focus is in, round at its ends (Quasar's
// menus left them to Tab). Returns whether the key moved the focus.
function moveInMenu(event) {
  if ((event.key !== "ArrowDown" && event.key !== "ArrowUp") || !(event.target instanceof Element)) return false;
  const menu = event.target.closest(".q-menu");
  if (menu === null || isTextField(event.target)) return false;
  const items = [...menu.querySelectorAll(".q-item[tabindex='0']")];
  if (!items.length) return false;
  const step = event.key === "ArrowDown" ? 1 : -1;
  const at = items.indexOf(event.target.closest(".q-item"));
  items[at < 0 ? (step > 0 ? 0 : items.length - 1) : (at + step + items.length) % items.length].focus();
  return true;
}

// Call onKey(shortcut) for each shortcut pressed on the page; returns a function that stops listening.
export function listenForKeys(onKey) {
  const onKeyDown = (event) => {
    if (moveInMenu(event)) {
      event.preventDefault();
      return;
    }
    if (scrollsUnderMenu(event)) {
      event.preventDefault();
      const menu = event.target instanceof Element ? event.target.closest(".q-menu") : null;
      if (menu !== null && !isTextField(event.target)) scrollMenu(menu, event.key);
      return;
    }
    const chip = event.key === " " && !event.ctrlKey && !event.metaKey && !event.altKey && !menuIsOpen()
      ? clickableChip(event.target) : null;
    if (chip !== null) {  // Space on a chip toggles it, as Enter does
      event.preventDefault();
      if (!event.repeat) chip.click();
      return;
    }
    const shortcut = shortcutOf(event);
    if (shortcut === null) return;
    if (shortcut !== "Escape") event.preventDefault();
    onKey(shortcut);
  };
  // A focused select, closed, takes a typed character to search its options, and Home, End and PageUp
  // for its own (and stops the event there): those are the page's (the select keeps the focus after Esc
  // closed it), so they are caught on their way down.
  const onKeyToSelect = (event) => {
    if (!SELECT_KEYS.includes(event.key) || !(event.target instanceof Element) || !event.target.closest(".q-select")) return;
    if (shortcutOf(event) !== event.key) return;
    event.preventDefault();
    event.stopPropagation();
    onKey(event.key);
  };
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("keydown", onKeyToSelect, { capture: true });
  return () => {
    document.removeEventListener("keydown", onKeyDown);
    document.removeEventListener("keydown", onKeyToSelect, { capture: true });
  };
}

// Clicks on the rows in `container`: entryOf(serial) finds a row's entry, toggle(serial) opens or closes it,
// a row's link button copies a link to it at `linkPath` (the stream's read-only address; on a merged
// view, the view's, of which the row's stream is taken).
export function listenForRowClicks(container, { entryOf, toggle, linkPath }) {
  container.addEventListener("click", (event) => {
    const row = event.target.closest(".bl-row");
    if (!row) return;
    const serial = Number(row.dataset.serial);
    const entry = entryOf(serial);
    if (!entry) return;
    const copy = event.target.closest(".bl-copy, .bl-link");
    if (copy) {
      const link = copy.classList.contains("bl-link");
      const done = (outcome) => {
        showCopied(copy, outcome);
        setTimeout(() => showCopied(copy, false, link ? LINK_LABEL : undefined), COPIED_MS);
      };
      (link ? copyText(lineLink(location.href, linkPath, entry.id, entry._s)) : copyRow(entry))
        .then(() => done(true), () => done("failed"));
      return;
    }
    // Selecting text in a row is not a click on it.
    if (!row.classList.contains("bl-expandable") || window.getSelection().toString()) return;
    toggle(serial);
  });
  // Enter on a row that has the keyboard's focus opens or closes it, as a click does.
  container.addEventListener("keydown", (event) => {
    const row = event.target;
    if (event.key !== "Enter" || !(row instanceof Element) || !row.classList.contains("bl-row")) return;
    if (!row.classList.contains("bl-expandable") || !entryOf(Number(row.dataset.serial))) return;
    event.preventDefault();
    toggle(Number(row.dataset.serial));
  });
}
