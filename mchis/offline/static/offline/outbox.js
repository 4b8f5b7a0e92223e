// Offline entry on the pages (docs/offline.md): registers the service worker, keeps the "waiting to send"
// count in the menu, queues the entry forms' input when there is no network (checked first by the server's
// own schema, web/schema.js), sends the queue when the connection returns, lists it on /offline/, and wipes
// the device copy at logout and when the session is over. No inline script (CSP): texts come from data-*.
(function () {
  "use strict";
  var O = window.MchisOutbox;
  if (!O || !window.indexedDB || !window.crypto || !window.crypto.subtle) return;
  var body = document.body;
  var user = body.getAttribute("data-offline-user") || "";
  var texts = document.getElementById("offline-texts");
  function t(name) { return (texts && texts.getAttribute("data-" + name)) || ""; }

  function csrf() {
    try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  // --- the session -----------------------------------------------------------------------------------
  if (!user) {
    // Signed out or session expired: the key, the unit's data and the cached pages go (queued entries stay
    // encrypted until the same person signs in again).
    O.wipeSession().catch(function () {});
    // the page just left (or its worker) may still be letting go of the database: look again a little later,
    // so a logout always ends with no database left on the device (unless entries are still queued)
    [2000, 8000].forEach(function (ms) { setTimeout(function () { O.wipeSession().catch(function () {}); }, ms); });
    return;
  }
  var ready = Promise.all([O.setState("user", user), O.setState("csrf", csrf())]).then(function () {
    return navigator.onLine ? O.key(user).catch(function () { return null; }) : O.key(user, { cachedOnly: true });
  });

  if ("serviceWorker" in navigator && body.hasAttribute("data-offline-sw")) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});

  // The unit's reference data (its villages and children, for search and duplicate hints), encrypted.
  ready.then(function (k) {
    if (!k || !navigator.onLine) return;
    return O.getState("referenceAt:" + user).then(function (at) {
      if (at && Date.now() - at < 3600 * 1000) return;
      return fetch("/api/v1/offline/reference", { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) return;
        return r.json().then(function (data) { return O.encrypt(k, data); }).then(function (box) {
          return O.setState("reference:" + user, box).then(function () { return O.setState("referenceAt:" + user, Date.now()); });
        });
      });
    });
  }).catch(function () {});

  // --- the count on every page ------------------------------------------------------------------------
  function showCount() {
    return O.count(user).then(function (n) {
      document.querySelectorAll("[data-outbox-count]").forEach(function (el) {
        var badge = el.querySelector("[data-outbox-n]");
        if (badge) badge.textContent = String(n);
        el.classList.toggle("outbox-has-items", n > 0);
      });
      return n;
    }).catch(function () { return 0; });
  }
  showCount();

  // --- logout wipes the device copy -------------------------------------------------------------------
  document.querySelectorAll("form[action$='/accounts/logout/']").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.wiped) return;
      event.preventDefault();
      O.count(user).catch(function () { return 0; }).then(function (n) {
        if (n > 0 && !window.confirm(t("logout-confirm").replace("{n}", n))) return;
        return O.wipeAll().catch(function () {}).then(function () {
          if (navigator.serviceWorker && navigator.serviceWorker.controller) {
            navigator.serviceWorker.controller.postMessage({ type: "wipe" });
          }
          form.dataset.wiped = "1";
          form.submit();
        });
      });
    });
  });

  // --- sending ---------------------------------------------------------------------------------------
  var syncing = null;
  function say(text, kind) {
    var box = document.getElementById("outbox-message") || document.getElementById("offline-status");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
    box.className = "msg" + (kind ? " msg-" + kind : "");
  }
  function syncNow() {
    if (syncing) return syncing;
    O.setState("csrf", csrf());
    syncing = O.syncAll().then(function (s) {
      if (s.error === "auth") say(t("expired"), "error");
      else if (s.error) say(t("failed"), "error");
      else if (s.sent || s.rejected || s.conflicts) say(t("sent").replace("{n}", s.sent + s.rejected + s.conflicts), "");
      return s;
    }).catch(function () { say(t("failed"), "error"); }).then(function (s) {
      syncing = null;
      document.dispatchEvent(new CustomEvent("mchis:outbox-changed"));
      return showCount().then(function () { return s; });
    });
    return syncing;
  }
  window.addEventListener("online", function () { ready.then(syncNow); });
  ready.then(function () { if (navigator.onLine) return syncNow(); });
  function requestBackgroundSync() {
    if (!navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) return reg.sync.register("mchis-outbox");
    }).catch(function () {});
  }

  // --- queuing an entry form --------------------------------------------------------------------------
  // The form's JSON Schema, from the server (cached by the service worker for offline use).
  var schemas = {};
  function loadSchema(form) {
    var url = form.getAttribute("data-schema-url");
    if (!url) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (schema) { if (schema) schemas[url] = schema; })
      .catch(function () {});
  }
  function schemaOf(form) { return schemas[form.getAttribute("data-schema-url")] || null; }
  function collect(form) {
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (typeof value !== "string" || name === "csrfmiddlewaretoken") return;
      fields[name] = value;
    });
    return fields;
  }
  function fill(form, fields) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.name === "csrfmiddlewaretoken") return;
      if (el.type === "checkbox" || el.type === "radio") el.checked = el.name in fields && (el.type === "checkbox" || fields[el.name] === el.value);
      else if (el.name in fields) {
        el.value = fields[el.name];
        if (el.tomselect) el.tomselect.setValue(fields[el.name], true);
        if (el._flatpickr) el._flatpickr.setDate(fields[el.name], false, "d/m/Y");
      }
    });
  }
  function clearErrors(form) {
    form.querySelectorAll(".offline-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[aria-invalid='true']").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }
  function showErrors(form, errors) {
    clearErrors(form);
    errors.forEach(function (e) {
      var name = e.field.split(/[.[]/)[0];
      var el = form.querySelector("[name='" + name + "']");
      if (!el && name === "circumstances") el = form.querySelector("[name='circ_0_group']");
      var note = document.createElement("small");
      note.className = "offline-error";
      note.setAttribute("role", "alert");
      note.textContent = e.message;
      if (el) {
        el.setAttribute("aria-invalid", "true");
        (el.closest("label") || el.parentNode).appendChild(note);
      } else form.prepend(note);
    });
    var first = form.querySelector("[aria-invalid='true']");
    if (first) first.focus();
  }
  function check(form, kind, fields) {
    var schema = schemaOf(form);
    var S = window.MchisSchema;
    if (!schema || !S) return [];
    if (kind === "register_record" || kind === "register_edit") {
      var record = S.registerRecord(schema, fields);
      record.source_record_id = "offline";
      return S.validate(schema, record).filter(function (e) { return e.field !== "source_record_id"; });
    }
    // a change proposal sends the whole form, so a new child and a change get the same checks
    return S.validate(schema, S.normaliseChild(schema, fields));
  }
  function circumstances(fields) {  // the child form's rows, as the server reads them (ChildForm.child_data)
    var list = [];
    for (var i = 0; i < 10; i++) {
      if (!("circ_" + i + "_group" in fields)) break;
      if (fields["circ_" + i + "_group"]) {
        list.push({ group_code: fields["circ_" + i + "_group"], start_date: fields["circ_" + i + "_start"] || "", end_date: fields["circ_" + i + "_end"] || "" });
      }
    }
    return list;
  }

  // --- duplicate hints offline (offline/duplicates.js) ------------------------------------------------------
  // Online the form asks the server (htmx, quality/_check.html); offline the same block is drawn here from the
  // unit's children kept encrypted on the device. Texts come from the block's data-offline-* attributes.
  var reference = null;
  function referenceData() {
    if (!reference) {
      reference = ready.then(function (k) {
        if (!k) return null;
        return O.getState("reference:" + user).then(function (box) { return box ? O.decrypt(k, box) : null; });
      }).catch(function () { return null; }).then(function (data) {
        if (!data) reference = null;  // not there yet: look again next time
        return data;
      });
    }
    return reference;
  }
  var WATCHED = ["full_name", "date_of_birth", "personal_id", "mother_name"];
  function dupHints(form) {
    var wrap = document.getElementById("dup-check-wrap");
    if (!wrap || !window.MchisDupes || !form.contains(wrap)) return null;
    function w(name) { return wrap.getAttribute("data-offline-" + name) || ""; }
    function el(tag, attrs, text) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
      if (text !== undefined) node.textContent = text;
      return node;
    }
    var shown = "";
    function draw(found) {
      var ids = found.map(function (f) { return f.child.id + ":" + f.reasons.join(","); }).join("|");
      if (ids === shown) return;
      var tick = form.querySelector("#id_not_duplicate"), why = form.querySelector("#id_not_duplicate_reason");
      var keep = { checked: !!(tick && tick.checked), reason: why ? why.value : "" };
      shown = ids;
      var box = wrap.querySelector("#dq-check") || wrap;
      box.textContent = "";
      if (!found.length) return;
      var article = el("article", { "class": "dup-warning", "data-testid": "possible-duplicates", "data-offline": "1" });
      article.appendChild(el("h2", { "class": "dup-title" }, w("title")));
      article.appendChild(el("p", { "class": "muted" }, w("note")));
      var table = el("table", { "class": "dup-table" }), head = el("tr");
      [w("col-child"), w("col-dob"), w("col-mother"), w("col-why")].forEach(function (h) { head.appendChild(el("th", {}, h)); });
      table.appendChild(el("thead")).appendChild(head);
      var tbody = table.appendChild(el("tbody"));
      found.forEach(function (f) {
        var row = tbody.appendChild(el("tr", { "data-child": f.child.id }));
        row.appendChild(el("td", {}, f.child.name));
        row.appendChild(el("td", {}, f.child.dob || "–"));
        row.appendChild(el("td", {}, f.child.mother || "–"));
        row.appendChild(el("td", {}, f.reasons.map(function (r) { return w("why-" + r.replace("_", "-")); }).join("; ")));
      });
      article.appendChild(el("div", { "class": "overflow-auto" })).appendChild(table);
      var confirm = article.appendChild(el("fieldset", { "class": "dup-confirm" }));
      var label = confirm.appendChild(el("label"));
      var box2 = label.appendChild(el("input", { type: "checkbox", name: "not_duplicate", id: "id_not_duplicate" }));
      box2.checked = keep.checked;
      label.appendChild(document.createTextNode(" " + w("confirm-label")));
      confirm.appendChild(el("label", { "for": "id_not_duplicate_reason" }, w("reason-label")));
      var reason = confirm.appendChild(el("input", { type: "text", name: "not_duplicate_reason", id: "id_not_duplicate_reason", maxlength: "500", placeholder: w("reason-placeholder") }));
      reason.value = keep.reason;
      var note = confirm.appendChild(el("p", { "class": "errorlist", role: "alert", hidden: "" }));
      confirm.addEventListener("input", function () { note.hidden = true; });
      confirm.addEventListener("change", function () { note.hidden = true; });
      box.appendChild(article);
    }
    function run() {
      if (navigator.onLine) return Promise.resolve();
      var fields = collect(form);
      return referenceData().then(function (data) {
        draw(data && data.children ? window.MchisDupes.find(data.children, fields) : []);
      });
    }
    var timer = null;
    function later(event) {
      if (!event.target || WATCHED.indexOf(event.target.name) < 0) return;
      clearTimeout(timer);
      timer = setTimeout(run, 300);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    window.addEventListener("offline", run);
    run();
    return {
      run: run,
      // Like the online send: a likely duplicate goes only with "đây là trẻ khác" ticked and a reason.
      problem: function () {
        if (!shown) return "";
        var tick = form.querySelector("#id_not_duplicate"), why = form.querySelector("#id_not_duplicate_reason");
        var text = !(tick && tick.checked) ? w("confirm-error") : !(why && why.value.trim()) ? w("reason-error") : "";
        var note = wrap.querySelector(".dup-confirm .errorlist");
        if (note) { note.textContent = text; note.hidden = !text; }
        if (text) (tick && !tick.checked ? tick : why).focus();
        return text;
      },
    };
  }

  var editing = new URLSearchParams(window.location.search).get("outbox");
  document.querySelectorAll("form[data-offline-form]").forEach(function (form) {
    var kind = form.getAttribute("data-offline-form");
    var status = document.getElementById("offline-status");
    loadSchema(form);
    var hints = kind === "child_create" ? dupHints(form) : null;
    // a register record's edit: the form as it was opened is the "base" side of a conflict (ADR 0042)
    var base = kind === "register_edit" ? collect(form) : null;
    if (editing) {
      O.open(user, editing).then(function (row) {
        if (!row) return;
        if (row.base) base = row.base;
        fill(form, row.fields);
        if (hints) hints.run();
        if (status) { status.hidden = false; status.textContent = t("editing") + (row.message ? " " + row.message : ""); }
        if (row.errors && row.errors.length) showErrors(form, row.errors.map(function (e) { return { field: e.field || "", message: e.message }; }));
      });
    }
    form.addEventListener("submit", function (event) {
      if (navigator.onLine && !editing) return;  // online: the page posts as usual
      event.preventDefault();
      event.stopImmediatePropagation();  // the outbox takes over from the single-draft resend (registry/draft.js)
      var submitter = event.submitter;
      if (submitter && submitter.name === "preview") { say(t("no-preview"), "error"); return; }
      var fields = collect(form);
      var toCheck = Object.assign({}, fields, { circumstances: circumstances(fields) });
      var errors = check(form, kind, toCheck);
      if (errors.length) { showErrors(form, errors); say(t("fix"), "error"); return; }
      clearErrors(form);
      var duplicate = hints && hints.problem();
      if (duplicate) { say(duplicate, "error"); return; }
      var title = fields.full_name || "";
      ready.then(function () {
        var keyInput = form.querySelector("[data-client-key]");
        return O.save(user, {
          id: editing || (keyInput && keyInput.value) || undefined,  // the form's own key: one id end to end
          kind: kind,
          register: form.getAttribute("data-register") || "",
          child: form.getAttribute("data-child") || "",
          base_version: form.getAttribute("data-base-version"),
          record: form.getAttribute("data-record") || null,
          base_hash: form.getAttribute("data-base-hash") || "",
          base: base,
          url: window.location.pathname,
          title: title + (form.getAttribute("data-label") ? " · " + form.getAttribute("data-label") : ""),
          fields: fields,
        });
      }).then(function () {
        requestBackgroundSync();
        return showCount();
      }).then(function (n) {
        if (editing || kind === "child_change" || kind === "register_edit") {
          window.location.assign("/offline/");
          return;
        }
        var keep = { facility: fields.facility, event_date: fields.event_date, place: fields.place };
        form.reset();
        var nextKey = form.querySelector("[data-client-key]");
        if (nextKey) nextKey.value = O.uuid();  // the next child is another entry
        if (kind === "register_record") fill(form, keep);
        try { window.localStorage.removeItem("mchis-draft:" + (form.getAttribute("data-draft") || "")); } catch (e) { /* none */ }
        say(t("queued").replace("{n}", n), "success");
        var first = form.querySelector("input:not([type=hidden]), select");
        if (first) first.focus();
        if (navigator.onLine) syncNow();
      }).catch(function (err) {
        if (err && (err.name === "QuotaExceededError" || /quota/i.test(String(err.message)))) say(t("quota"), "error");
        else if (err && err.name === "NoKey") say(t("no-key"), "error");
        else say(t("not-saved") + " " + (err && err.message ? err.message : ""), "error");
      });
    }, true);
  });

  // The waiting list (/offline/) draws itself with offline/outbox-list.js.
  window.MchisOutboxPage = { user: user, ready: ready, syncNow: function () { return ready.then(syncNow); }, showCount: showCount };
  document.dispatchEvent(new CustomEvent("mchis:outbox-ready"));
})();
