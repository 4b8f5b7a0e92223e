// Copies the front-end packages' distributable files into Django static files.
// Why a copy and not a bundler: a few prebuilt files, no transpiling needed; fewer moving parts.
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "mchis", "web", "static", "vendor");
const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "@alpinejs/csp/dist/cdn.min.js": "alpine.min.js",
  "echarts/dist/echarts.min.js": "echarts.min.js",
  "@picocss/pico/css/pico.min.css": "pico.min.css",
  // The one date widget (text dd/mm/yyyy + calendar helper) and its month picker, Vietnamese texts.
  "flatpickr/dist/flatpickr.min.js": "flatpickr.min.js",
  "flatpickr/dist/flatpickr.min.css": "flatpickr.min.css",
  "flatpickr/dist/l10n/vn.js": "flatpickr-vn.js",
  "flatpickr/dist/plugins/monthSelect/index.js": "flatpickr-month.js",
  "flatpickr/dist/plugins/monthSelect/style.css": "flatpickr-month.css",
  // Type-to-search pickers (units grouped by the tree, ethnic groups, circumstance groups).
  "tom-select/dist/js/tom-select.complete.min.js": "tom-select.min.js",
  "tom-select/dist/css/tom-select.min.css": "tom-select.min.css",
  // Offline entry (docs/offline.md): IndexedDB made easy, and Workbox's prebuilt service-worker modules, loaded
  // by /sw.js with importScripts (each attaches itself to self.workbox; core first).
  "idb/build/umd.js": "idb.umd.js",
  "workbox-core/build/workbox-core.prod.js": "workbox/workbox-core.prod.js",
  "workbox-routing/build/workbox-routing.prod.js": "workbox/workbox-routing.prod.js",
  "workbox-strategies/build/workbox-strategies.prod.js": "workbox/workbox-strategies.prod.js",
  "workbox-expiration/build/workbox-expiration.prod.js": "workbox/workbox-expiration.prod.js",
  "workbox-precaching/build/workbox-precaching.prod.js": "workbox/workbox-precaching.prod.js",
};
mkdirSync(out, { recursive: true });
for (const [src, dst] of Object.entries(files)) {
  mkdirSync(dirname(join(out, dst)), { recursive: true });
  cpSync(join(root, "node_modules", src), join(out, dst));
}
console.log(`static vendor files written to ${out}`);
