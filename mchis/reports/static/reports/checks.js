// Report checks while typing (kiểm tra số liệu khi nhập): the form's own validation rules, read as JSON from the
// manual-cells form's data-checks attribute (no inline script: CSP), evaluated as manual values change. The
// server runs the same rules again at submission (reports.services.report_submit): errors block, warnings
// need an explanation. An empty manual cell is "not entered", never 0: rules naming it are skipped and the
// required-cell message is shown instead.
(function () {
  "use strict";
  const OPS = {
    "==": (a, b) => a === b,
    "!=": (a, b) => a !== b,
    ">=": (a, b) => a >= b,
    "<=": (a, b) => a <= b,
    ">": (a, b) => a > b,
    "<": (a, b) => a < b,
  };
  const INTEGER = /^[0-9]{1,9}$/;

  function side(terms, values) {
    let total = 0;
    for (const [sign, cell, constant] of terms) {
      if (cell === null) {
        total += sign * constant;
      } else if (cell in values) {
        total += sign * values[cell];
      } else {
        return null;
      }
    }
    return total;
  }

  function evaluate(data, values) {
    const full = Object.assign({}, values);
    for (const [key, terms] of Object.entries(data.formulas)) {
      const v = side(terms, full);
      if (v === null) delete full[key];
      else full[key] = v;
    }
    const found = [];
    for (const rule of data.rules) {
      const left = side(rule.left, full);
      const right = side(rule.right, full);
      if (left === null || right === null) continue;
      if (!OPS[rule.op](left, right)) {
        found.push({ severity: rule.severity, rule: rule.id, text: `${rule.message} (${left} ${rule.op} ${right} sai)` });
      }
    }
    return found;
  }

  function init(form) {
    const data = JSON.parse(form.dataset.checks);
    const section = document.querySelector("[data-testid=findings]");
    const list = document.getElementById("report-findings");
    if (!section || !list) return;
    const inputs = Array.from(form.querySelectorAll("input[data-cell]"));
    const labels = document.documentElement.lang === "en"
      ? { error: "Error", warning: "Warning", required: "Required cell not entered", integer: "not a non-negative whole number" }
      : { error: "Lỗi", warning: "Cảnh báo", required: "Chưa nhập ô bắt buộc", integer: "không phải số nguyên không âm" };

    function refresh() {
      const values = Object.assign({}, data.values);
      const messages = [];
      for (const input of inputs) {
        const key = input.dataset.cell;
        const text = input.value.trim();
        const label = form.querySelector(`label[for="${input.id}"]`);
        const name = label ? label.firstChild.textContent.trim() : key;
        delete values[key];
        input.removeAttribute("aria-invalid");
        if (text === "") {
          if (input.getAttribute("aria-required") === "true") {
            messages.push({ severity: "error", rule: "required", text: `${labels.required} «${name}»` });
          }
        } else if (!INTEGER.test(text)) {
          input.setAttribute("aria-invalid", "true");
          messages.push({ severity: "error", rule: "integer", text: `«${name}»: '${text}' ${labels.integer}` });
        } else {
          values[key] = parseInt(text, 10);
        }
      }
      messages.push(...evaluate(data, values));
      list.replaceChildren(
        ...messages.map((m) => {
          const li = document.createElement("li");
          li.className = `finding-${m.severity}`;
          li.dataset.rule = m.rule;
          li.textContent = `${labels[m.severity]}: ${m.text}`;
          return li;
        }),
      );
      section.hidden = messages.length === 0;
    }

    form.addEventListener("input", refresh);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("manual-form");
    if (form && form.dataset.checks) init(form);
  });
})();
