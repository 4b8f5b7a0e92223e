// A small JSON Schema checker for the offline forms (docs/offline.md, ADR 0043): the keywords the server's
// exported schemas use (type, enum, const, pattern, min/maxLength, minimum/maximum, format "date", required,
// properties, additionalProperties, items, min/maxItems, anyOf, $ref to #/$defs). The schemas come from the
// server (registry.validation.child_json_schema, registers.schemas.record_json_schema), never written here;
// mchis/registry/tests/test_child_schema.py runs this file under Node and holds that it agrees with the server.
// Works in a page (window.MchisSchema), a service worker and Node (module.exports).
(function (root) {
  "use strict";

  function typeOf(v) {
    if (v === null) return "null";
    if (Array.isArray(v)) return "array";
    if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
    return typeof v;
  }

  function typeOk(v, t) {
    var actual = typeOf(v);
    if (Array.isArray(t)) return t.some(function (x) { return typeOk(v, x); });
    if (t === "number") return actual === "number" || actual === "integer";
    return actual === t;
  }

  function isDate(s) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    if (!m) return false;
    var y = +m[1], mo = +m[2], d = +m[3];
    if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
    var days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    return d <= days[mo - 1];
  }

  function len(s) { return Array.from(s).length; }  // code points, as JSON Schema (and Python) count

  function equal(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function resolve(rootSchema, schema) {
    while (schema && schema.$ref) {
      var path = schema.$ref.replace(/^#\//, "").split("/");
      schema = path.reduce(function (node, key) { return node[key]; }, rootSchema);
    }
    return schema;
  }

  // Returns the first failing keyword of `value` against `schema` (null when it passes), with nested errors.
  function check(rootSchema, schema, value, path, errors) {
    schema = resolve(rootSchema, schema);
    if (!schema) return null;
    if (schema.anyOf) {
      var best = null;
      for (var i = 0; i < schema.anyOf.length; i++) {
        var sub = [];
        var kw = check(rootSchema, schema.anyOf[i], value, path, sub);
        if (!kw && !sub.length) { best = null; break; }
        var branch = resolve(rootSchema, schema.anyOf[i]);
        // the error worth showing comes from the branch that is not "null" nor a blank constant
        if (!best || (best.plain && branch.type !== "null" && !("const" in branch))) {
          best = { kw: kw, sub: sub, plain: branch.type === "null" || "const" in branch };
        }
      }
      if (best) {
        Array.prototype.push.apply(errors, best.sub);
        return best.sub.length ? null : best.kw || "anyOf";
      }
    }
    if ("const" in schema && !equal(schema.const, value)) return "const";
    if (schema.enum && !schema.enum.some(function (x) { return equal(x, value); })) return "enum";
    if (schema.type && !typeOk(value, schema.type)) return "type";
    var t = typeOf(value);
    if (t === "string") {
      if (schema.minLength !== undefined && len(value) < schema.minLength) return "minLength";
      if (schema.maxLength !== undefined && len(value) > schema.maxLength) return "maxLength";
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) return "pattern";
      if (schema.format === "date" && !isDate(value)) return "format";
    }
    if (t === "integer" || t === "number") {
      if (schema.minimum !== undefined && value < schema.minimum) return "minimum";
      if (schema.maximum !== undefined && value > schema.maximum) return "maximum";
    }
    if (t === "array") {
      if (schema.minItems !== undefined && value.length < schema.minItems) return "minItems";
      if (schema.maxItems !== undefined && value.length > schema.maxItems) return "maxItems";
      if (schema.items) {
        value.forEach(function (item, index) {
          var kw = check(rootSchema, schema.items, item, path + "[" + index + "]", errors);
          if (kw) errors.push({ field: path + "[" + index + "]", keyword: kw });
        });
      }
    }
    if (t === "object") objectErrors(rootSchema, schema, value, path, errors);
    return null;
  }

  function blank(v) { return v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length); }

  function objectErrors(rootSchema, schema, value, path, errors) {
    var props = schema.properties || {};
    var prefix = path ? path + "." : "";
    var blankMissing = !!rootSchema["x-blank-is-missing"];
    (schema.required || []).forEach(function (name) {
      if (!(name in value) || (blankMissing && blank(value[name]))) {
        errors.push({ field: prefix + name, keyword: "required" });
      }
    });
    Object.keys(value).forEach(function (name) {
      if (!(name in props)) {
        if (schema.additionalProperties === false) errors.push({ field: prefix + name, keyword: "additionalProperties" });
        return;
      }
      if (blankMissing && blank(value[name]) && (schema.required || []).indexOf(name) >= 0) return;
      var kw = check(rootSchema, props[name], value[name], prefix + name, errors);
      if (kw) errors.push({ field: prefix + name, keyword: kw });
    });
  }

  var GENERIC = {
    required: "bắt buộc nhập.",
    type: "giá trị không hợp lệ.",
    format: "ngày không hợp lệ (dd/mm/yyyy).",
    pattern: "không đúng định dạng.",
    enum: "giá trị không có trong danh sách.",
    const: "giá trị không hợp lệ.",
    minLength: "bắt buộc nhập.",
    maxLength: "quá dài.",
    minimum: "nhỏ hơn giá trị cho phép.",
    maximum: "lớn hơn giá trị cho phép.",
    minItems: "cần ít nhất một mục.",
    maxItems: "quá nhiều mục.",
    additionalProperties: "trường không được phép.",
    anyOf: "giá trị không hợp lệ.",
  };

  function propertyOf(rootSchema, field) {
    var schema = rootSchema;
    var parts = field.replace(/\[\d+\]/g, "").split(".");
    for (var i = 0; i < parts.length; i++) {
      schema = resolve(rootSchema, schema);
      if (schema && schema.type === "array" && schema.items) schema = resolve(rootSchema, schema.items);
      if (!schema || !schema.properties) return null;
      schema = schema.properties[parts[i]];
    }
    return resolve(rootSchema, schema);
  }

  // [{field, keyword, message}] for `value`; the message is the server's own (x-messages) where it has one.
  function validate(rootSchema, value) {
    var errors = [];
    var kw = check(rootSchema, rootSchema, value, "", errors);
    if (kw) errors.push({ field: "", keyword: kw });
    errors.forEach(function (e) {
      var prop = propertyOf(rootSchema, e.field) || {};
      var own = prop["x-messages"] || {};
      var title = prop.title || e.field;
      e.message = own[e.keyword] || own.type || (title + ": " + GENERIC[e.keyword]);
    });
    return errors;
  }

  // --- the child form's values, normalised as registry.validation.normalise does ------------------------
  function parseDate(v) {
    if (v === undefined || v === null || v === "") return null;
    var text = String(v).trim();
    if (text.indexOf(" ") >= 0) text = text.split(" ")[0];
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
    var m = /^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$/.exec(text);
    if (m) {
      var iso = m[3] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[1]).slice(-2);
      return isDate(iso) ? iso : text;  // an impossible date stays as typed: the schema refuses it
    }
    return text;
  }

  var SEX = { NAM: "M", M: "M", "NỮ": "F", NU: "F", F: "F", "": "" };

  function normaliseChild(schema, raw) {
    var out = {};
    Object.keys(schema.properties).forEach(function (name) {
      var prop = schema.properties[name];
      var v = raw[name];
      var kind = prop["x-kind"];
      if (kind === "list") { out[name] = Array.isArray(v) ? v.map(function (item) {
        var copy = {};
        Object.keys(item).forEach(function (k) { copy[k] = /date$/.test(k) ? parseDate(item[k]) : String(item[k] || "").normalize("NFC"); });
        return copy;
      }) : []; return; }
      if (v === undefined || v === null || v === "") {
        out[name] = kind === "date" || kind === "int" ? null : "";
        return;
      }
      if (kind === "date") out[name] = parseDate(v);
      else if (kind === "int") out[name] = /^-?\d+$/.test(String(v).trim()) ? parseInt(v, 10) : String(v);
      else if (kind === "sex") {
        var key = String(v).normalize("NFC").toUpperCase();
        out[name] = key in SEX ? SEX[key] : String(v);
      } else if (kind === "pid") out[name] = String(v).replace(/[\s.\-]/g, "");
      else out[name] = String(v).normalize("NFC");
    });
    return out;
  }

  // --- a register form's values → the record the schema describes -------------------------------------
  function typed(prop, v) {
    var p = prop;
    if (p.anyOf) p = p.anyOf.filter(function (x) { return x.type !== "null"; })[0] || p;
    if (v === undefined || v === null || v === "") return undefined;
    if (p.type === "boolean") return v === true || v === "on" || v === "true";
    if (p.type === "integer") return /^-?\d+$/.test(String(v).trim()) ? parseInt(v, 10) : String(v);
    if (p.type === "number") {
      var t = String(v).trim().replace(",", ".");
      return /^-?\d+(\.\d+)?$/.test(t) ? parseFloat(t) : String(v);
    }
    if (p.format === "date") return parseDate(v);
    return String(v);
  }

  function registerRecord(rootSchema, fields) {
    var record = {};
    var props = rootSchema.properties || {};
    Object.keys(props).forEach(function (name) {
      if (name === "newborns") return;
      var prop = resolve(rootSchema, props[name]);
      var isBool = (prop.type === "boolean") || (prop.anyOf || []).some(function (x) { return x.type === "boolean"; });
      if (isBool) { record[name] = name in fields; return; }
      var value = typed(prop, fields[name]);
      if (value !== undefined) record[name] = value;
    });
    if (props.newborns) {
      var nbSchema = resolve(rootSchema, resolve(rootSchema, props.newborns).items);
      var slots = parseInt(fields.newborn_slots || "2", 10) || 0;
      var list = [];
      for (var slot = 0; slot < slots; slot++) {
        var nb = {};
        Object.keys(nbSchema.properties).forEach(function (name) {
          var key = "nb" + slot + "_" + name;
          var prop = resolve(rootSchema, nbSchema.properties[name]);
          var isBool = (prop.type === "boolean") || (prop.anyOf || []).some(function (x) { return x.type === "boolean"; });
          if (isBool) { if (key in fields) nb[name] = true; return; }
          var value = typed(prop, fields[key]);
          if (value !== undefined) nb[name] = value;
        });
        if (Object.keys(nb).length) list.push(nb);
      }
      record.newborns = list;
    }
    return record;
  }

  var api = { validate: validate, normaliseChild: normaliseChild, registerRecord: registerRecord, parseDate: parseDate };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MchisSchema = api;
})(typeof self !== "undefined" ? self : this);
