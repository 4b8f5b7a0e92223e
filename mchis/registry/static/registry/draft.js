// Offline-tolerant drafts for the child forms (no inline script: CSP).
// The browser keeps unsent input in localStorage; a client-generated key (crypto.randomUUID) goes with the
// form so the server deduplicates: a resubmitted form creates nothing twice.
(function () {
  "use strict";
  var PREFIX = "mchis-draft:";

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function load(key) {
    try { return JSON.parse(window.localStorage.getItem(PREFIX + key) || "null"); } catch (e) { return null; }
  }

  function save(key, draft) {
    try { window.localStorage.setItem(PREFIX + key, JSON.stringify(draft)); } catch (e) { /* storage full */ }
  }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "file" && el.type !== "submit" && el.name !== "csrfmiddlewaretoken";
    });
  }

  function collect(form) {
    var values = {};
    fields(form).forEach(function (el) {
      values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    return values;
  }

  function restore(form, values) {
    fields(form).forEach(function (el) {
      if (!(el.name in values)) return;
      if (el.type === "checkbox") el.checked = !!values[el.name];
      else el.value = values[el.name];
    });
  }

  function status(text) {
    var box = document.getElementById("draft-status");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  // A page that confirms a request (data-draft-done = its client key) clears the matching draft.
  document.querySelectorAll("[data-draft-done]").forEach(function (el) {
    var done = el.getAttribute("data-draft-done");
    for (var i = window.localStorage.length - 1; i >= 0; i--) {
      var k = window.localStorage.key(i);
      if (k && k.indexOf(PREFIX) === 0) {
        var d = load(k.slice(PREFIX.length));
        if (d && d.values && d.values.client_key === done) window.localStorage.removeItem(k);
      }
    }
  });

  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var key = form.getAttribute("data-draft");
    var keyInput = form.querySelector("[data-client-key]");
    var draft = load(key);
    if (draft && draft.values && form.hasAttribute("data-fresh")) {
      restore(form, draft.values);
      status(draft.pending ? "Bản nháp chưa gửi — sẽ gửi khi có mạng." : "Đã khôi phục bản nháp chưa gửi.");
    }
    if (keyInput && !keyInput.value) keyInput.value = uuid();

    var persist = function (pending) {
      save(key, { values: collect(form), pending: !!pending, at: Date.now() });
    };
    form.addEventListener("input", function () { persist(false); });
    form.addEventListener("change", function () { persist(false); });

    var sending = false;
    var sendWhenOnline = function () {
      window.removeEventListener("online", sendWhenOnline);
      if (sending) return;  // resubmit once
      sending = true;
      status("Đang gửi…");
      form.submit();
    };
    form.addEventListener("submit", function (event) {
      persist(!navigator.onLine);
      if (!navigator.onLine) {
        event.preventDefault();
        status("Chưa gửi — mất kết nối. Bản nháp được lưu và sẽ tự gửi lại khi có mạng.");
        window.addEventListener("online", sendWhenOnline);
      }
    });
    if (draft && draft.pending && form.hasAttribute("data-fresh")) {
      if (navigator.onLine) sendWhenOnline();
      else window.addEventListener("online", sendWhenOnline);
    }
  });
})();
