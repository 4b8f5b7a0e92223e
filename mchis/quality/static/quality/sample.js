// Phúc tra keyboard navigation (no inline script: CSP). Outside a text field: A = all fields match (save and go
// on), N = next record, P = previous record. Elements carry the key in data-key.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
    var key = (event.key || "").toLowerCase();
    if (key === "arrowright") key = "n";
    if (key === "arrowleft") key = "p";
    var el = document.querySelector('[data-key="' + key + '"]');
    if (!el) return;
    event.preventDefault();
    el.click();
  });
})();
