{% autoescape off %}/* mchis service worker (docs/offline.md). Served by the product at /sw.js (root scope); Workbox from npm,
   vendored by scripts/build_static.mjs. Caches only: the static files, the entry pages the person opened, and
   nothing else of the server's (no API answers, no lists of other units). The outbox lives in IndexedDB,
   encrypted (outbox-core.js); the page wipes caches and IndexedDB on logout and on an expired session. */
importScripts({% for src in workbox %}"{{ src }}"{% if not forloop.last %}, {% endif %}{% endfor %});
importScripts("{{ idb }}", "{{ core }}");

const { precacheAndRoute } = workbox.precaching;
const { registerRoute, setCatchHandler } = workbox.routing;
const { NetworkFirst, StaleWhileRevalidate } = workbox.strategies;
const { ExpirationPlugin } = workbox.expiration;

workbox.core.setCacheNameDetails({ prefix: "mchis", suffix: "v1" });
workbox.core.clientsClaim();
self.skipWaiting();

precacheAndRoute([{% for url in precache %}{ url: "{{ url }}", revision: null }{% if not forloop.last %},
  {% endif %}{% endfor %}]);

// Entry pages the person may need offline: the waiting list, the child forms and the register entry forms.
const ENTRY_PAGES = [
  /^\/offline\/$/,
  /^\/children\/new\/$/,
  /^\/children\/[0-9a-f-]{36}\/change\/$/,
  /^\/registers\/$/,
  /^\/registers\/[a-z_]+\/new\/$/,
  /^\/registers\/[a-z_]+\/\d+\/$/,
];
const PAGES = "mchis-pages";
registerRoute(
  ({ request, url }) =>
    request.mode === "navigate" && url.origin === self.location.origin && ENTRY_PAGES.some((re) => re.test(url.pathname)),
  new NetworkFirst({
    cacheName: PAGES,
    networkTimeoutSeconds: 4,
    plugins: [new ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 7 * 24 * 3600 })],
    matchOptions: { ignoreSearch: true },
  }),
);
// The forms' JSON Schemas (structure only, no personal data): the browser checks entries offline with them.
registerRoute(
  ({ url }) =>
    url.origin === self.location.origin &&
    (url.pathname === "/api/v1/children/schema" || /^\/api\/v1\/registers\/[a-z_]+\/schema$/.test(url.pathname)),
  new StaleWhileRevalidate({ cacheName: "mchis-schemas" }),
);
registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname.startsWith("/static/"),
  new StaleWhileRevalidate({ cacheName: "mchis-static" }),
);

// A page that is not cached, opened offline: the waiting list, which says what can be done without a network.
setCatchHandler(async ({ request }) => {
  if (request.mode === "navigate") {
    const cache = await caches.open(PAGES);
    const page = await cache.match("{{ offline_page }}", { ignoreSearch: true });
    if (page) return page;
  }
  return Response.error();
});

// Background Sync (where the browser has it): the queue is sent when the connection returns, even with the
// page closed. Elsewhere the page sends on "online" and by its button.
self.addEventListener("sync", (event) => {
  if (event.tag === "mchis-outbox") event.waitUntil(MchisOutbox.syncAll({ fromWorker: true }));
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "wipe") event.waitUntil(MchisOutbox.wipeCaches());
});
{% endautoescape %}
