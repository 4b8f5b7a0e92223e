// Duplicate hints while offline (R-DQ-02, docs/offline.md). Online, the child form asks the server
// (quality.selectors.duplicate_warnings, drawn by quality/_check.html); with no network this file finds the likely
// duplicates among the unit's children kept (encrypted) on the device, with a deliberately simple rule:
//   1. the same name (folded as mchis.core.text.fold folds it) and the same date of birth; or
//   2. the same personal ID (12 digits); or
//   3. the same mother's name (folded) and dates of birth at most NEAR_DAYS days apart.
// Pure functions; the page wiring is in outbox.js. The server's own check runs again when the entry arrives.
(function (root) {
  "use strict";
  var NEAR_DAYS = 3;
  var LIMIT = 5;
  // Python's str whitespace (`\s` of `re` on str, `str.strip`), which is not quite JavaScript's `\s`.
  var SPACES = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
  var MARKS = /\p{Mn}/gu;

  // mchis.core.text.fold: đ→d, accents removed (NFD, combining marks dropped), lower case, spaces collapsed.
  function fold(value) {
    if (!value) return "";
    var s = String(value).replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD").replace(MARKS, "");
    return s.toLowerCase().replace(SPACES, " ").replace(/^ | $/g, "");
  }

  // "2/5/2021", "02/05/2021", "2021-05-02" → days since 1970 (UTC), or null.
  function day(value) {
    var s = String(value || "").trim(), m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s), y, mo, d;
    if (m) { d = +m[1]; mo = +m[2]; y = +m[3]; } else if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s))) { y = +m[1]; mo = +m[2]; d = +m[3]; } else return null;
    var t = Date.UTC(y, mo - 1, d), back = new Date(t);
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
    return Math.round(t / 86400000);
  }

  function digits(value) { return String(value || "").replace(/[\s.-]/g, ""); }

  // children: the reference data's [{id, name, dob (dd/mm/yyyy), mother, pid}]; probe: the form's values.
  // Returns up to LIMIT [{child, reasons: ["name_dob" | "pid" | "mother_dob"]}], strongest first.
  function find(children, probe) {
    var name = fold(probe.full_name), born = day(probe.date_of_birth), pid = digits(probe.personal_id);
    var mother = fold(probe.mother_name);
    if (!name && !(pid.length === 12)) return [];
    var found = [];
    (children || []).forEach(function (c) {
      if (!c._fold) c._fold = { name: fold(c.name), mother: fold(c.mother), day: day(c.dob) };
      var reasons = [];
      if (pid.length === 12 && c.pid && digits(c.pid) === pid) reasons.push("pid");
      if (name && born !== null && c._fold.name === name && c._fold.day === born) reasons.push("name_dob");
      if (mother && born !== null && c._fold.day !== null && c._fold.mother === mother &&
          Math.abs(c._fold.day - born) <= NEAR_DAYS && reasons.indexOf("name_dob") < 0) reasons.push("mother_dob");
      if (reasons.length) found.push({ child: c, reasons: reasons });
    });
    var weight = { pid: 3, name_dob: 2, mother_dob: 1 };
    function score(f) { return f.reasons.reduce(function (n, r) { return n + weight[r]; }, 0); }
    found.sort(function (a, b) { return score(b) - score(a); });
    return found.slice(0, LIMIT);
  }

  root.MchisDupes = { fold: fold, find: find, day: day, NEAR_DAYS: NEAR_DAYS };
})(typeof self !== "undefined" ? self : this);
