// The shared input widgets (no inline scripts: CSP). Server-rendered markup opts in with data attributes:
//   <input type="text" data-date>          one date widget: typed dd/mm/yyyy, calendar helper (flatpickr)
//   <input type="text" data-month>         a month: mm/yyyy, shown as "tháng 10/2026" in the picker
//   <select data-search>                   type-to-search picker (tom-select); <optgroup>s stay grouped
// The server parses dd/mm/yyyy itself (mchis.web.dates); without JavaScript the fields still work as text.
(function () {
  "use strict";
  const lang = document.documentElement.lang || "vi";
  const vi = lang.startsWith("vi");

  function locale() {
    if (vi && window.flatpickr && window.flatpickr.l10ns && window.flatpickr.l10ns.vn) {
      return window.flatpickr.l10ns.vn;
    }
    return "default";
  }

  function initDate(el) {
    if (el._flatpickr || !window.flatpickr) return;
    window.flatpickr(el, {
      dateFormat: "d/m/Y",
      allowInput: true,
      disableMobile: true, // never the phone's native picker (it shows mm/dd/yyyy on many phones)
      locale: locale(),
      clickOpens: true,
      onClose: function (_dates, _str, fp) {
        // Keep what the person typed when it is not a complete date: the server explains the error.
        if (fp.input.value && !fp.selectedDates.length) fp.input.value = fp._input.value;
      },
    });
  }

  function initMonth(el) {
    if (el._flatpickr || !window.flatpickr || !window.monthSelectPlugin) return;
    window.flatpickr(el, {
      allowInput: true,
      disableMobile: true,
      locale: locale(),
      plugins: [new window.monthSelectPlugin({ shorthand: false, dateFormat: "m/Y", altFormat: "m/Y" })],
    });
  }

  function initSearch(el) {
    if (el.tomselect || !window.TomSelect) return;
    const options = {
      maxOptions: 500,
      allowEmptyOption: true,
      plugins: el.multiple ? ["remove_button"] : [],
      render: {
        no_results: function () {
          return '<div class="no-results">' + (vi ? "Không tìm thấy" : "No match") + "</div>";
        },
      },
    };
    // Match without Vietnamese accents too ("ha noi" finds "Hà Nội"); tom-select folds diacritics itself.
    options.diacritics = true;
    new window.TomSelect(el, options);
  }

  function init(root) {
    root.querySelectorAll("input[data-date]").forEach(initDate);
    root.querySelectorAll("input[data-month]").forEach(initMonth);
    root.querySelectorAll("select[data-search]").forEach(initSearch);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  // Fragments swapped in by htmx get the same widgets.
  document.addEventListener("htmx:afterSwap", function (event) {
    init(event.target);
  });
})();
