// Shared by every page: dialogs and drop-down menus.
"use strict";

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-opens]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.opens);
    // Opened from a menu, the menu closes, and focus comes back to its button afterwards.
    const menu = opener.closest("details.menu");
    if (menu) {
      menu.removeAttribute("open");
      dialog.addEventListener("close", () => menu.querySelector("summary").focus(), { once: true });
    }
    dialog.showModal();
    return;
  }
  const closer = event.target.closest("[data-closes]");
  if (closer) {
    closer.closest("dialog").close();
    return;
  }
  // A click outside an open menu closes it, as menus do.
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
});

const FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]";

document.addEventListener("keydown", (event) => {
  // Escape closes an open menu and puts focus back on its button (a dialog closes itself).
  const menu = event.target.closest?.("details.menu[open]");
  if (event.key === "Escape" && menu) {
    menu.removeAttribute("open");
    menu.querySelector("summary").focus();
  }
  // Tab and Shift+Tab go round an open dialog instead of leaving it for the browser's bar.
  const dialog = document.querySelector("dialog[open]");
  if (event.key !== "Tab" || !dialog) return;
  const stops = [...dialog.querySelectorAll(FOCUSABLE)].filter(
    (element) => !element.disabled && element.tabIndex >= 0 && element.getClientRects().length,
  );
  const [first, last] = [stops[0], stops[stops.length - 1]];
  if (event.shiftKey ? document.activeElement === first : document.activeElement === last) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
});

// A download starts and the page stays: its dialog has done its job.
document.addEventListener("submit", (event) => {
  if (event.target.matches("[data-closes-on-submit]")) {
    event.target.closest("dialog")?.close();
  }
});

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-submit-on-change]")) event.target.form.requestSubmit();
});
