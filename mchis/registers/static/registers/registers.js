// Keyboard flow for register entry: Ctrl+Enter = "save and enter the next one"; focus the first error.
(function () {
  "use strict";
  function init() {
    var form = document.querySelector("[data-register-form]");
    if (!form) { return; }
    var firstError = form.querySelector("[aria-invalid='true']");
    var first = firstError || form.querySelector("input:not([type=hidden]), select");
    if (first) { first.focus(); }
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        var next = form.querySelector("[data-save-next]");
        if (next) { next.click(); }
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
