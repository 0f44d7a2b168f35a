// Følge: a minute before a session ends for lack of activity, ask "Stay signed in?".
// The limit comes from the server (data-idle-seconds on <body>); activity in another
// tab counts too, through a time kept in localStorage. If nobody answers, the page is
// loaded again when the time is up: the server then asks to sign in, and brings the
// person back to this page afterwards, where drafts.js puts back what was typed.
const seconds = Number(document.body.dataset.idleSeconds || 0);
const dialog = document.querySelector("[data-idle-warning]");
const KEY = "folge-last-activity";

if (seconds > 60 && dialog && typeof dialog.showModal === "function") {
  const mark = () => localStorage.setItem(KEY, String(Date.now()));
  mark();
  const token = () => (document.querySelector('input[name="csrf_token"]') || {}).value || "";
  const tick = () => {
    const last = Number(localStorage.getItem(KEY)) || Date.now();
    const left = seconds * 1000 - (Date.now() - last);
    if (left <= 0) {
      location.reload();
    } else if (left <= 60000 && !dialog.open) {
      dialog.showModal();
    } else if (left > 60000 && dialog.open) {
      dialog.close(); // another tab kept the session alive
    }
  };
  dialog.querySelector("[data-idle-stay]").addEventListener("click", async () => {
    try {
      const response = await fetch(dialog.dataset.aliveUrl, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token() },
      });
      if (!response.ok) {
        location.reload();
        return;
      }
    } catch {
      // No connection: the session may still be alive; try again at the next tick.
    }
    mark();
    dialog.close();
  });
  setInterval(tick, 5000);
  tick();
}
