// The station's outbox (docs/offline.md): queued entries in IndexedDB (through idb, from npm), their form
// fields encrypted with AES-GCM under a non-extractable key released by the server at login, sent in order
// to /api/v1/offline/sync. Shared by the pages (outbox.js) and the service worker (Background Sync).
(function (root) {
  "use strict";
  var DB_NAME = "mchis-offline";
  var BATCH = 50;
  var dbPromise = null;
  var wiping = false;  // logout under way: nothing may open (and so re-create) the database behind its deletion
  var wipes = 0;  // logouts seen by this page or worker: a sync begun before one writes nothing after it

  function db() {
    if (wiping) return Promise.reject(new Error("mchis-offline: logout in progress"));
    if (!dbPromise) {
      var opening = root.idb.openDB(DB_NAME, 1, {
        upgrade: function (d) {
          d.createObjectStore("keys");
          d.createObjectStore("state");
          var store = d.createObjectStore("outbox", { keyPath: "id" });
          store.createIndex("user", "user");
        },
        // another page or the worker deletes the database (logout): let go of it at once
        blocking: function () {
          opening.then(function (d) { d.close(); });
          dbPromise = null;
        },
      });
      dbPromise = opening;
    }
    return dbPromise;
  }

  // --- state and key -------------------------------------------------------------------------------
  function getState(name) { return db().then(function (d) { return d.get("state", name); }); }
  function setState(name, value) { return db().then(function (d) { return d.put("state", value, name); }); }

  function b64(bytes) {
    var s = "";
    new Uint8Array(bytes).forEach(function (b) { s += String.fromCharCode(b); });
    return btoa(s);
  }
  function unb64(text) {
    var raw = atob(text);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  // The person's key: fetched once per session from the server, imported non-extractable (the page can
  // use it, never read it back), kept as a CryptoKey object in IndexedDB until logout or session expiry.
  function key(user, options) {
    return db().then(function (d) { return d.get("keys", String(user)); }).then(function (found) {
      if (found || (options && options.cachedOnly)) return found || null;
      return fetch("/api/v1/offline/key", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok) throw new Error("key " + r.status);
          return r.json();
        })
        .then(function (body) {
          return crypto.subtle.importKey("raw", unb64(body.key), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
        })
        .then(function (k) { return db().then(function (d) { return d.put("keys", k, String(user)); }).then(function () { return k; }); });
    });
  }

  function encrypt(k, value) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var data = new TextEncoder().encode(JSON.stringify(value));
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, k, data).then(function (ct) {
      return { iv: b64(iv), ct: b64(ct) };
    });
  }
  function decrypt(k, box) {
    return crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(box.iv) }, k, unb64(box.ct)).then(function (plain) {
      return JSON.parse(new TextDecoder().decode(plain));
    });
  }

  // --- the queue ---------------------------------------------------------------------------------------
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.from(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function list(user) {
    return db().then(function (d) { return d.getAllFromIndex("outbox", "user", String(user)); }).then(function (rows) {
      return rows.sort(function (a, b) { return a.seq - b.seq; });
    });
  }

  function unsent(item) { return item.status === "waiting" || item.status === "rejected" || item.status === "sending"; }

  // Save (new or edited) entry. `entry` = {id?, kind, register, child, base_version, url, title, fields} and, for
  // a register record's edit, {record, base_hash, base}: the record, the version and the form as it was opened.
  function save(user, entry) {
    return key(user, { cachedOnly: true }).then(function (k) {
      if (!k) { var e = new Error("no key"); e.name = "NoKey"; throw e; }
      return encrypt(k, { fields: entry.fields, title: entry.title, base: entry.base || null }).then(function (box) {
        return db().then(function (d) {
          var tx = d.transaction("outbox", "readwrite");
          return tx.store.get(entry.id || "").then(function (old) {
            var row = {
              id: entry.id || uuid(),
              user: String(user),
              seq: old ? old.seq : Date.now() + Math.random(),
              kind: entry.kind,
              register: entry.register || "",
              child: entry.child || "",
              base_version: entry.base_version === undefined || entry.base_version === "" ? null : Number(entry.base_version),
              record: entry.record ? Number(entry.record) : null,
              base_hash: entry.base_hash || "",
              url: entry.url,
              queued_at: old ? old.queued_at : new Date().toISOString(),
              edited_at: new Date().toISOString(),
              status: "waiting",
              message: "", errors: [], decision: "", object_url: "",
              box: box,
            };
            return tx.store.put(row).then(function () { return tx.done; }).then(function () { return row; });
          });
        });
      });
    });
  }

  function open(user, id) {
    return db().then(function (d) { return d.get("outbox", id); }).then(function (row) {
      if (!row || row.user !== String(user)) return null;
      return key(user, { cachedOnly: true }).then(function (k) {
        if (!k) return null;
        return decrypt(k, row.box).then(function (plain) { row.fields = plain.fields; row.title = plain.title; row.base = plain.base || null; return row; });
      });
    });
  }

  function discard(user, id) {
    return db().then(function (d) {
      return d.get("outbox", id).then(function (row) {
        if (row && row.user === String(user)) return d.delete("outbox", id);
      });
    });
  }

  function count(user) {
    return list(user).then(function (rows) { return rows.filter(unsent).length; });
  }

  function update(row) { return db().then(function (d) { return d.put("outbox", row); }); }

  // --- sending -----------------------------------------------------------------------------------------
  function post(url, body, csrf) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf || "" },
      body: JSON.stringify(body),
    });
  }

  function applyFate(row, fate) {
    row.status = fate.status === "accepted" ? "sent" : fate.status;
    row.message = fate.message || "";
    row.errors = fate.errors || [];
    row.decision = fate.decision || "";
    row.object_url = fate.url || "";
    row.sent_at = row.sent_at || new Date().toISOString();
    return update(row);
  }

  // Send every unsent entry of the current person, in the order they were made. Resolves to a summary
  // {sent, rejected, conflicts, error: "" | "network" | "auth"}.
  // One sync at a time per browser: the page's button, its "online" handler and the service worker's
  // Background Sync may all start one; the Web Locks API makes them wait for each other (across tabs too).
  function syncAll() {
    var locks = root.navigator && root.navigator.locks;
    if (locks && locks.request) return locks.request("mchis-outbox-sync", syncOnce);
    return syncOnce();
  }

  function syncOnce() {
    var summary = { sent: 0, rejected: 0, conflicts: 0, error: "" };
    // a logout (wipeAll) while this sync waits for the server: its answer must not write the queue back
    var generation = wipes;
    return Promise.all([getState("user"), getState("csrf")]).then(function (got) {
      var user = got[0], csrf = got[1];
      if (!user) return summary;
      return key(user, { cachedOnly: true }).then(function (k) {
        if (!k) { summary.error = "auth"; return summary; }
        return list(user).then(function (rows) {
          var todo = rows.filter(function (r) { return r.status === "waiting" || r.status === "sending"; });
          var total = rows.filter(unsent).length;
          var chain = Promise.resolve();
          for (var i = 0; i < todo.length; i += BATCH) {
            (function (page) {
              chain = chain.then(function () {
                if (summary.error) return;
                return Promise.all(page.map(function (r) {
                  return decrypt(k, r.box).then(function (plain) {
                    return {
                      client_id: r.id, kind: r.kind, register: r.register, child: r.child,
                      base_version: r.base_version, queued_at: r.queued_at, fields: plain.fields,
                      record: r.record || null, base_hash: r.base_hash || "", base_fields: plain.base || null,
                    };
                  });
                })).then(function (items) {
                  return post("/api/v1/offline/sync", { items: items, waiting: total }, csrf).then(function (response) {
                    if (response.status === 401 || response.status === 403) { summary.error = "auth"; return; }
                    if (!response.ok) { summary.error = "server"; return; }
                    return response.json().then(function (body) {
                      if (wipes !== generation) { summary.error = "auth"; return; }
                      total -= page.length;
                      var byId = {};
                      page.forEach(function (r) { byId[r.id] = r; });
                      return Promise.all(body.items.map(function (fate) {
                        if (fate.status === "accepted") summary.sent++;
                        else if (fate.status === "conflict") summary.conflicts++;
                        else summary.rejected++;
                        return applyFate(byId[fate.client_id], fate);
                      })).then(function () { return setState("lastSync:" + user, body.synced_at); });
                    });
                  });
                });
              });
            })(todo.slice(i, i + BATCH));
          }
          return chain.catch(function () { summary.error = summary.error || "network"; }).then(function () {
            return refresh(user, csrf).catch(function () { /* fates are refreshed next time */ });
          }).then(function () {
            if (summary.error === "auth") return wipeSession().then(function () { return summary; });
            return summary;
          });
        });
      });
    });
  }

  // The current state of entries already sent (a proposal approved, returned, a conflict resolved…).
  function refresh(user, csrf) {
    var generation = wipes;  // as in syncOnce: an answer that comes after a logout writes nothing back
    return list(user).then(function (rows) {
      var sent = rows.filter(function (r) { return r.status === "sent" || r.status === "conflict"; });
      if (!sent.length) return;
      return post("/api/v1/offline/status", { ids: sent.map(function (r) { return r.id; }) }, csrf).then(function (response) {
        if (!response.ok) return;
        return response.json().then(function (fates) {
          if (wipes !== generation) return;
          var byId = {};
          sent.forEach(function (r) { byId[r.id] = r; });
          return Promise.all(fates.map(function (f) { return applyFate(byId[f.client_id], f); }));
        });
      });
    });
  }

  // --- wiping the device copy ---------------------------------------------------------------------------
  function wipeCaches() {
    if (!root.caches) return Promise.resolve();
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("mchis") === 0; }).map(function (n) { return caches.delete(n); }));
    });
  }

  // Session over (expired, account disabled): the key, the unit's data and the cached pages go; the queued
  // entries stay, unreadable (encrypted) until the same person signs in again and the server gives the key.
  function exists() {
    if (!root.indexedDB.databases) return Promise.resolve(true);
    return root.indexedDB.databases().then(function (all) {
      return all.some(function (x) { return x.name === DB_NAME; });
    });
  }

  // Open the database only if it is there: a signed-out page must never create it again (an open request
  // queued behind a pending deletion would otherwise bring it back, empty, after the logout).
  function openExisting() {
    return root.idb.openDB(DB_NAME, undefined, {
      upgrade: function (d, oldVersion, newVersion, tx) { tx.abort(); },
      blocking: function () { /* closed by the caller as soon as it is done */ },
    });
  }

  function wipeSession() {
    return exists().then(function (yes) {
      if (!yes) return;  // nothing kept on this device: do not create the database
      return openExisting().then(clearSession, function () { /* gone meanwhile: nothing to clear */ });
    }).then(wipeCaches);
  }

  // The key and the unit's data go; queued entries stay (encrypted). A database left with nothing queued (the
  // logout emptied it, its deletion was still blocked when the page moved on) is deleted here, so a logout
  // always ends with nothing stored on the device (the database itself goes once every connection lets go).
  function clearSession(d) {
    if (dbPromise) { dbPromise.then(function (open) { open.close(); }).catch(function () {}); dbPromise = null; }
    var tx = d.transaction(["keys", "state", "outbox"], "readwrite");
    var queued = tx.objectStore("outbox").count();
    return Promise.all([tx.objectStore("keys").clear(), tx.objectStore("state").getAllKeys().then(function (names) {
      return Promise.all(names.filter(function (n) { return String(n).indexOf("lastSync:") !== 0; }).map(function (n) {
        return tx.objectStore("state").delete(n);
      }));
    }), queued]).then(function (done) {
      return tx.done.then(function () {
        d.close();
        if (done[2] === 0) return deleteWithPatience();
      });
    });
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function deleteWithPatience() {
    return Promise.race([root.idb.deleteDB(DB_NAME), wait(3000)]);
  }

  // Logout: everything of this browser's offline copy, the queue included (the person confirmed it).
  // Nothing may open the database from the first step on: an open request queued behind the deletion would
  // create it again (empty) after the logout. So the database is opened only if it is there, emptied (at once),
  // closed, then deleted; "wiping" holds until the deletion has really finished (it may wait for another tab or
  // the worker to let go), not only until the caller stops waiting for it.
  function wipeAll() {
    wiping = true;
    wipes++;
    var mine = dbPromise;
    dbPromise = null;
    if (mine) mine.then(function (d) { d.close(); }).catch(function () {});
    var emptied = exists().then(function (yes) {
      if (!yes) return false;
      return openExisting().then(function (d) {
        var tx = d.transaction(["keys", "state", "outbox"], "readwrite");
        return Promise.all([tx.objectStore("keys").clear(), tx.objectStore("state").clear(), tx.objectStore("outbox").clear()])
          .then(function () { return tx.done; })
          .then(function () { d.close(); return true; }, function (e) { d.close(); throw e; });
      }, function () { return true; /* gone meanwhile */ });
    });
    var deleted = emptied.then(function (was) { if (was) return root.idb.deleteDB(DB_NAME); });
    // the worker lives on and must be able to open the database again at the next login: "wiping" ends when
    // the deletion has finished, or after a minute at the most (a tab that never lets go must not lock it out)
    Promise.race([deleted, wait(60000)]).then(done, done);
    function done() { wiping = false; }
    // The page leaves (the logout is submitted) only once the stores are empty: leaving aborts a transaction
    // still running, and on a loaded machine the emptying took more than the 3 s the deletion is given — the
    // queue stayed on the device. The deletion alone may wait for other connections; it goes on without us.
    function settled(p, ms) { return Promise.race([p, wait(ms)]).catch(function () {}); }
    return settled(emptied, 20000).then(function () { return settled(deleted, 3000); }).then(wipeCaches);
  }

  root.MchisOutbox = {
    key: key, save: save, open: open, discard: discard, list: list, count: count, unsent: unsent,
    syncAll: syncAll, refresh: refresh, getState: getState, setState: setState, encrypt: encrypt, decrypt: decrypt,
    wipeSession: wipeSession, wipeAll: wipeAll, wipeCaches: wipeCaches, uuid: uuid,
  };
})(typeof self !== "undefined" ? self : this);
