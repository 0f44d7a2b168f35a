// Følge service worker. Precaches the app shell and the offline page in each
// language. Personal pages are never cached here: navigations go to the
// network, and only when it fails is the offline page shown.
const VERSION = "__SHELL_VERSION__";
const SHELL_CACHE = `folge-shell-${VERSION}`;
const SETTINGS_CACHE = "folge-settings";
const LANGUAGES = ["nb", "nn", "en"];
const SHELL = [
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/js/passkey.js",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/icon-maskable-512.png",
  "/manifest.webmanifest",
  ...LANGUAGES.map((lang) => `/offline/${lang}`),
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) => Promise.all(
      names.filter((name) => name.startsWith("folge-shell-") && name !== SHELL_CACHE)
        .map((name) => caches.delete(name))
    )).then(() => self.clients.claim())
  );
});

const currentLanguage = async () => {
  const cache = await caches.open(SETTINGS_CACHE);
  const stored = await cache.match("/__language");
  const lang = stored ? await stored.text() : "nb";
  return LANGUAGES.includes(lang) ? lang : "nb";
};

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "language" && LANGUAGES.includes(data.lang)) {
    event.waitUntil(caches.open(SETTINGS_CACHE).then(
      (cache) => cache.put("/__language", new Response(data.lang))
    ));
  } else if (data.type === "signed-out") {
    // Delete every personal copy (none exist yet; later features opt in per device).
    event.waitUntil(caches.keys().then((names) => Promise.all(
      names.filter((name) => name.startsWith("folge-personal")).map((name) => caches.delete(name))
    )));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(async () => {
        const cache = await caches.open(SHELL_CACHE);
        return (await cache.match(`/offline/${await currentLanguage()}`)) || Response.error();
      })
    );
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(
      caches.open(SHELL_CACHE).then((cache) => cache.match(url.pathname)).then(
        (hit) => hit || fetch(request)
      )
    );
  }
});
