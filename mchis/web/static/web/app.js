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

// Phones (issue 13 item 8): a list table becomes one card per row, each value under its column's name, so
// every page reads on 360 px without sideways scrolling. Only tables with a single header row are stacked;
// report grids (.report-grid) and tables marked .no-stack keep their layout (they scroll, first column fixed).
function stackTables(root) {
  root.querySelectorAll("table").forEach((table) => {
    if (table.classList.contains("report-grid") || table.classList.contains("no-stack")) return;
    if (!table.tHead || table.tHead.rows.length !== 1) return;
    const labels = [];
    Array.from(table.tHead.rows[0].cells).forEach((cell) => {
      for (let i = 0; i < (cell.colSpan || 1); i += 1) labels.push(cell.textContent.trim());
    });
    table.classList.add("stack");
    Array.from(table.tBodies).forEach((body) => {
      Array.from(body.rows).forEach((row) => {
        let column = 0;
        Array.from(row.cells).forEach((cell) => {
          if (labels[column] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", labels[column]);
          column += cell.colSpan || 1;
        });
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", () => stackTables(document));
document.addEventListener("htmx:afterSettle", (event) => stackTables(event.target));
