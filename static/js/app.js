// Følge: registers the service worker and tells it the page language, so the
// offline page comes in the same language. Also passes on sign-out, so that
// a copy kept on this phone is deleted.
const signedOut = new URLSearchParams(location.search).has("signed_out");
if (signedOut) {
  // What this phone kept for the person who signed out: the switches of the copies kept
  // (appointments, crisis plan), requests waiting for a connection, and drafts (drafts.js).
  localStorage.removeItem("folge-keep-appointments");
  localStorage.removeItem("folge-keep-crisis-plan");
  localStorage.removeItem("folge-waiting-requests");
  Object.keys(localStorage).filter((key) => key.startsWith("folge-draft:"))
    .forEach((key) => localStorage.removeItem(key));
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(() => {
    return navigator.serviceWorker.ready;
  }).then((registration) => {
    const worker = navigator.serviceWorker.controller || registration.active;
    if (!worker) return;
    worker.postMessage({ type: "language", lang: document.documentElement.lang });
    if (signedOut) worker.postMessage({ type: "signed-out" });
  }).catch(() => {
    // Without a service worker the app still works online; nothing to tell the user.
  });
}
