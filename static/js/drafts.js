// Følge: a long form keeps a draft on this phone while it is typed, so nothing is lost
// when the phone locks, the connection drops or the session ends. After signing in
// again the person comes back to the form (server/auth_setup.py) and the draft is
// put back.
//
// A form opts in with data-draft. The draft is kept per person (data-owner on <body>)
// and page, for at most a week, and removed when the form has been sent and stored
// (the next page is another one than the form, or says it is saved, and is not a
// sign-in page), when the
// person chooses "Start again", and at sign-out (app.js).
import { fieldsOf, fillForm } from "./form-fields.js";

const PREFIX = "folge-draft:";
const PENDING = "folge-draft-pending";
const WEEK = 7 * 24 * 3600 * 1000;
const owner = document.body.dataset.owner || "";

const read = (key) => {
  try {
    const draft = JSON.parse(localStorage.getItem(key) || "null");
    return draft && Date.now() - draft.savedAt < WEEK ? draft : null;
  } catch {
    return null;
  }
};

// The form sent on the previous page: stored, unless we are back on it or asked to sign in.
// Back on the same form right after sending it: the server shows what was sent (with
// what it asks to change), so the draft is not put back over it.
let justSent = false;
const pending = sessionStorage.getItem(PENDING);
if (pending) {
  sessionStorage.removeItem(PENDING);
  try {
    const { key, page } = JSON.parse(pending);
    const here = location.pathname;
    const stored = here !== page || document.querySelector(".flash-success");
    if (stored && !/sign-in/.test(here)) localStorage.removeItem(key);
    justSent = here === page;
  } catch {
    // A broken note: nothing to do.
  }
}

for (const form of owner ? document.querySelectorAll("form[data-draft]") : []) {
  const key = `${PREFIX}${owner}:${location.pathname}`;
  const notice = document.querySelector("[data-draft-notice]");
  const draft = read(key);
  // After a refused send the server shows what was typed, with the error: keep that.
  const refused = document.querySelector(".error-summary");
  const typed = draft && draft.fields.some(([name, value]) => name !== "client_key" && value.trim());
  if (draft && typed && !refused && !justSent) {
    // What the person typed and chose; hidden fields come from the server, except the
    // request's own key (so a request sent twice is still stored once).
    const hidden = new Set([...form.querySelectorAll("input[type=hidden]")].map((el) => el.name));
    fillForm(form, draft.fields.filter(([name]) => name === "client_key" || !hidden.has(name)));
    if (notice) notice.hidden = false;
  }
  let timer = null;
  const keep = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      localStorage.setItem(key, JSON.stringify({ fields: fieldsOf(form), savedAt: Date.now() }));
    }, 300);
  };
  form.addEventListener("input", keep);
  form.addEventListener("change", keep);
  form.addEventListener("submit", () => {
    clearTimeout(timer);
    if (!navigator.onLine) {
      localStorage.removeItem(key); // the offline queue keeps it now (offline-queue.js)
      return;
    }
    localStorage.setItem(key, JSON.stringify({ fields: fieldsOf(form), savedAt: Date.now() }));
    sessionStorage.setItem(PENDING, JSON.stringify({ key, page: location.pathname }));
  });
  const discard = notice && notice.querySelector("[data-draft-discard]");
  if (discard) {
    discard.addEventListener("click", () => {
      localStorage.removeItem(key);
      location.reload();
    });
  }
}
