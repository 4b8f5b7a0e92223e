// Copies the front-end packages' distributable files into Django static files.
// Why a copy and not a bundler: four prebuilt files, no transpiling needed; fewer moving parts.
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
};
mkdirSync(out, { recursive: true });
for (const [src, dst] of Object.entries(files)) {
  cpSync(join(root, "node_modules", src), join(out, dst));
}
console.log(`static vendor files written to ${out}`);
