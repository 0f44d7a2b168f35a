// Følge service worker. Precaches the app shell and the offline page in each
// language. Personal pages are cached only when the person turned on "keep on
// this phone" for this device, and then only that page (the appointment list,
// the crisis plan); signing out deletes every copy. It also shows web push
// notifications.
const VERSION = "__SHELL_VERSION__";
const SHELL_CACHE = `folge-shell-${VERSION}`;
const SETTINGS_CACHE = "folge-settings";
const PERSONAL_CACHE = "folge-personal";
// What may be kept, and the flag that says it is: the appointments' flag keeps its first name.
const KEPT = {
  "appointments": { path: "/me/appointments/", flag: "/__keep" },
  "crisis-plan": { path: "/me/crisis-plan", flag: "/__keep-crisis-plan" },
};
const keptFor = (pathname) => Object.values(KEPT).find((k) => k.path === pathname);
const LANGUAGES = ["nb", "nn", "en"];
const SHELL = [
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/js/passkey.js",
  "/static/js/push.js",
  "/static/js/offline-copy.js",
  "/static/js/offline-queue.js",
  "/static/js/form-fields.js",
  "/static/js/drafts.js",
  "/static/js/idle.js",
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
    event.waitUntil(forgetPersonal());
  } else if (data.type === "keep" && KEPT[data.what]) {
    // Answer whether a copy is now kept, so the page never claims one that is not there.
    const reply = (kept) => { if (event.ports[0]) event.ports[0].postMessage({ kept }); };
    const work = data.on ? keep(KEPT[data.what]) : forget(KEPT[data.what]).then(() => false);
    event.waitUntil(work.then(reply, () => reply(false)));
  }
});

const forgetPersonal = async () => {
  const settings = await caches.open(SETTINGS_CACHE);
  await Promise.all(Object.values(KEPT).map((k) => settings.delete(k.flag)));
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(PERSONAL_CACHE))
    .map((name) => caches.delete(name)));
};

const forget = async (kept) => {
  await (await caches.open(SETTINGS_CACHE)).delete(kept.flag);
  await (await caches.open(PERSONAL_CACHE)).delete(kept.path);
};

const keeping = async (kept) => {
  const settings = await caches.open(SETTINGS_CACHE);
  return Boolean(await settings.match(kept.flag));
};

const keep = async (kept) => {
  const response = await fetch(kept.path, { credentials: "same-origin" });
  if (!response.ok || response.redirected) return false;
  await (await caches.open(PERSONAL_CACHE)).put(kept.path, response);
  await (await caches.open(SETTINGS_CACHE)).put(kept.flag, new Response("1"));
  return true;
};

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (err) { data = {}; }
  event.waitUntil(self.registration.showNotification(data.title || "Følge", {
    body: data.body || "",
    icon: "/icons/icon-192.png",
    badge: "/icons/icon-192.png",
    data: { url: data.url || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((windows) => {
    for (const client of windows) {
      if (new URL(client.url).origin === self.location.origin && "focus" in client) {
        client.navigate(target);
        return client.focus();
      }
    }
    return self.clients.openWindow(target);
  }));
});

const navigate = async (request, url) => {
  const kept = keptFor(url.pathname);
  try {
    const response = await fetch(request);
    if (kept && response.ok && !response.redirected && await keeping(kept)) {
      await (await caches.open(PERSONAL_CACHE)).put(kept.path, response.clone());
    }
    return response;
  } catch (err) {
    if (kept && await keeping(kept)) {
      const copy = await (await caches.open(PERSONAL_CACHE)).match(kept.path);
      if (copy) return copy;
    }
    const cache = await caches.open(SHELL_CACHE);
    return (await cache.match(`/offline/${await currentLanguage()}`)) || Response.error();
  }
};

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(request, url));
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
