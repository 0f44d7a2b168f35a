// Følge: a request made while the phone is offline is kept on this phone and
// sent once, when the connection returns. "Once" is the server's promise: each
// form carries a client key, and the server stores one request per key, so a
// resend (or two tabs sending) finds the first request instead of making a second.
//
// The waiting request lives in localStorage until it is sent (it is removed at
// sign-out too). Online, forms post as usual and this script does nothing.
//
// A form opts in with data-offline-queue="<path prefix>": the request was stored when
// the answer lands on that prefix followed by a number (/me/take-home/12,
// /me/messages/3). data-offline-kind="message" picks the box's words for a message.
import { fieldsOf, fillForm } from "./form-fields.js";

const STORE = "folge-waiting-requests";
const box = document.querySelector("[data-waiting]");
const form = document.querySelector("form[data-offline-queue]");

// Each item carries an opaque id of the person who made it (data-owner on <body>), so
// on a shared phone one person's waiting request is never sent or shown for another.
const owner = document.body.dataset.owner || "";
const loadAll = () => {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "[]");
  } catch {
    return [];
  }
};
const load = () => (owner ? loadAll().filter((item) => item.owner === owner) : []);
const save = (mine) => {
  const all = loadAll().filter((item) => item.owner !== owner).concat(mine);
  if (all.length) localStorage.setItem(STORE, JSON.stringify(all));
  else localStorage.removeItem(STORE);
};

function say(which, href, kind) {
  if (!box) return;
  const template = (kind && box.querySelector(`[data-text-${kind}-${which}]`)) ||
    box.querySelector(`[data-text-${which}]`);
  box.hidden = false;
  box.querySelector("[data-waiting-status]").textContent = template.content.textContent.trim();
  const link = box.querySelector("[data-waiting-link]");
  link.hidden = !href;
  if (href) link.querySelector("a").href = href;
  const linkText = kind && box.querySelector(`[data-text-${kind}-link]`);
  if (href && linkText) link.querySelector("a").textContent = linkText.content.textContent.trim();
}

const actionOf = (element) => new URL(element.getAttribute("action") || location.href, location.href).pathname;

if (form) {
  // A request that came back "check it" is put back into its form, so nothing typed is lost.
  const failed = load().find((item) => item.failed && item.action === actionOf(form));
  if (failed) {
    fillForm(form, failed.fields);
    say("check", null, failed.kind);
  }
  form.addEventListener("submit", (event) => {
    const key = new FormData(form).get("client_key");
    if (navigator.onLine) {
      // Sent the usual way; the server keeps what was typed if something needs changing.
      save(load().filter((item) => item.key !== key));
      return;
    }
    event.preventDefault();
    const fields = fieldsOf(form);
    const items = load().filter((item) => item.key !== key);
    const landing = form.dataset.offlineQueue || "/me/take-home/";
    const kind = form.dataset.offlineKind || "";
    items.push({ key, owner, action: actionOf(form), landing, kind, fields, savedAt: Date.now() });
    save(items);
    say("waiting", null, kind);
    // The message sits above a long form: move focus there, which also scrolls it into view.
    if (box) box.focus();
  });
}

let busy = false;

async function sendOne(item) {
  // A fresh CSRF token from the same form page; a redirect away means the session ended.
  const page = await fetch(item.action, { credentials: "same-origin" });
  if (page.redirected && new URL(page.url).pathname !== item.action) return "sign-in";
  const html = await page.text();
  const token = new DOMParser().parseFromString(html, "text/html")
    .querySelector('input[name="csrf_token"]');
  if (!token) return "sign-in";
  const body = new URLSearchParams(item.fields);
  body.set("csrf_token", token.value);
  const response = await fetch(item.action, { method: "POST", body, credentials: "same-origin" });
  const landed = response.redirected ? new URL(response.url).pathname : "";
  const prefix = item.landing || "/me/take-home/";
  const stored = landed.startsWith(prefix) && /^\d+$/.test(landed.slice(prefix.length));
  return stored ? landed : "check";
}

async function flush() {
  const waiting = load().filter((item) => !item.failed);
  if (busy || !waiting.length) return;
  if (!navigator.onLine) {
    say("waiting", null, waiting[0].kind);
    return;
  }
  busy = true;
  try {
    for (const item of waiting) {
      say("sending", null, item.kind);
      let outcome;
      try {
        outcome = await sendOne(item);
      } catch {
        say("waiting", null, item.kind); // the connection dropped again; try at the next "online"
        return;
      }
      if (outcome === "sign-in") {
        say("sign-in", null, item.kind);
        return;
      }
      const rest = load().filter((other) => other.key !== item.key);
      if (outcome === "check") {
        save([...rest, { ...item, failed: true }]);
        say("check", null, item.kind);
        return;
      }
      save(rest);
      say("sent", outcome, item.kind);
    }
  } finally {
    busy = false;
  }
}

window.addEventListener("online", flush);
window.addEventListener("offline", () => {
  const first = load().find((item) => !item.failed);
  if (first) say("waiting", null, first.kind);
});
flush();
