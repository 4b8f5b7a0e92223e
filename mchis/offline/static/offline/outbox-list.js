// The "waiting to send" list (/offline/, docs/offline.md): each queued entry of this device with its fate
// (waiting, sent and received, conflict, rejected with the server's message), editable and discardable until
// sent. Loaded by that page only; offline/outbox.js (every page) owns the queue and the sending.
(function () {
  "use strict";
  function start() {
    var O = window.MchisOutbox;
    var P = window.MchisOutboxPage;
    if (!O || !P) return;
    var user = P.user;
    var rowsBox = document.getElementById("outbox-rows");
    var listTexts = document.getElementById("outbox-texts");
    function lt(name) { return (listTexts && listTexts.getAttribute("data-" + name)) || name; }
    function when(iso) {
      if (!iso) return "";
      var d = new Date(iso);
      function two(n) { return ("0" + n).slice(-2); }
      return two(d.getDate()) + "/" + two(d.getMonth() + 1) + "/" + d.getFullYear() + " " + two(d.getHours()) + ":" + two(d.getMinutes());
    }
    function statusText(row) {
      if (row.status === "sent") {
        var decided = { approved: "approved", pending: "pending", returned: "returned", rejected: "declined" }[row.decision];
        return lt("accepted") + (decided ? " · " + lt(decided) : "");
      }
      return lt(row.status);
    }
    function render() {
      if (!rowsBox) return Promise.resolve();
      var net = document.getElementById("outbox-net");
      if (net) net.textContent = net.getAttribute(navigator.onLine ? "data-online" : "data-offline");
      var last = document.getElementById("outbox-last");
      O.getState("lastSync:" + user).then(function (at) {
        if (last) last.textContent = at ? last.getAttribute("data-label") + ": " + when(at) : last.getAttribute("data-never");
      });
      return O.list(user).then(function (rows) {
        return O.key(user, { cachedOnly: true }).then(function (k) {
          return Promise.all(rows.map(function (r) {
            return k ? O.decrypt(k, r.box).then(function (p) { r.title = p.title; return r; }).catch(function () { return r; }) : r;
          }));
        });
      }).then(function (rows) {
        rowsBox.textContent = "";
        if (!rows.length) {
          var tr = rowsBox.insertRow();
          var td = tr.insertCell();
          td.colSpan = 4;
          td.textContent = lt("empty");
          return;
        }
        rows.forEach(function (row) {
          var tr = rowsBox.insertRow();
          tr.setAttribute("data-outbox-item", row.id);
          tr.setAttribute("data-status", row.status);
          if (row.status === "rejected" || row.status === "conflict") tr.className = "row-error";
          var kind = { child_create: lt("child-new"), child_change: lt("child-change"), register_record: lt("register"), register_edit: lt("register-edit") }[row.kind] || row.kind;
          var c1 = tr.insertCell();
          var strong = document.createElement("strong");
          strong.textContent = row.title || "—";
          c1.appendChild(strong);
          c1.appendChild(document.createElement("br"));
          c1.appendChild(document.createTextNode(kind));
          tr.insertCell().textContent = when(row.queued_at);
          var c3 = tr.insertCell();
          c3.textContent = statusText(row);
          if (row.message) {
            var why = document.createElement("small");
            why.className = "outbox-why";
            why.textContent = row.message;
            c3.appendChild(document.createElement("br"));
            c3.appendChild(why);
          }
          var c4 = tr.insertCell();
          if (O.unsent(row)) {
            var edit = document.createElement("a");
            edit.href = row.url + "?outbox=" + encodeURIComponent(row.id);
            edit.textContent = lt("edit");
            edit.setAttribute("data-testid", "outbox-edit");
            c4.appendChild(edit);
            c4.appendChild(document.createTextNode(" "));
            var drop = document.createElement("button");
            drop.type = "button";
            drop.className = "secondary outline";
            drop.textContent = lt("discard");
            drop.addEventListener("click", function () {
              if (!window.confirm(lt("confirm-discard"))) return;
              O.discard(user, row.id).then(function () { return Promise.all([render(), P.showCount()]); });
            });
            c4.appendChild(drop);
          } else if (row.object_url) {
            var view = document.createElement("a");
            view.href = row.object_url;
            view.textContent = lt("open");
            c4.appendChild(view);
          }
        });
      }).catch(function () {});
    }
    var sendButton = document.getElementById("outbox-send");
    if (sendButton) sendButton.addEventListener("click", function () { P.syncNow(); });
    window.addEventListener("offline", render);
    window.addEventListener("online", render);
    document.addEventListener("mchis:outbox-changed", render);
    render();
  }
  if (window.MchisOutboxPage) start();
  else document.addEventListener("mchis:outbox-ready", start);
})();
