// Behaviour without inline handlers (the CSP forbids them): confirmation of destructive
// actions on forms that carry data-confirm="…".
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm) {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }
});

// Keyboard access to a table wider than its column (WCAG 2.1.1): DSFR scrolls the table
// itself (.fr-table > table); one that scrolls becomes focusable, so the arrow keys move it.
const focusWideTables = () => {
  for (const table of document.querySelectorAll(".fr-table > table")) {
    const wide = table.scrollWidth > table.clientWidth;
    if (wide && !table.hasAttribute("tabindex")) {
      table.setAttribute("tabindex", "0");
      table.dataset.cilScrolls = "";
    } else if (!wide && "cilScrolls" in table.dataset) {
      table.removeAttribute("tabindex");
      delete table.dataset.cilScrolls;
    }
  }
};
document.addEventListener("DOMContentLoaded", focusWideTables);
window.addEventListener("resize", focusWideTables);
document.addEventListener("htmx:afterSettle", focusWideTables);
