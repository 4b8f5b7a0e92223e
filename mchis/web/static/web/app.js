// Small behaviours without inline scripts (CSP): auto-submit selects, the phone menu.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.submit();
  }
});

// Phones: the header menu collapses behind one button.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-menu-toggle]") : null;
  if (!button) return;
  const header = button.closest("[data-menu]");
  const open = header.classList.toggle("menu-open");
  button.setAttribute("aria-expanded", open ? "true" : "false");
});

// After the second-factor check, the interrupted form is sent again as typed (accounts/step_up_continue.html).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-autosubmit-form]");
  if (form) form.submit();
});
