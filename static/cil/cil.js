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
