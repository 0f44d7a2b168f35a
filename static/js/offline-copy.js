// "Keep on this phone": an opt-in per device and per page (data-offline-copy names which:
// "crisis-plan", or empty for the appointment list). The choice lives in this browser only;
// the service worker keeps the copy and deletes it on sign-out or when the box is unticked.
for (const box of document.querySelectorAll("[data-offline-copy]")) {
  const what = box.dataset.offlineCopy || "appointments";
  const KEY = `folge-keep-${what}`;
  if (!("serviceWorker" in navigator && "caches" in window)) continue;
  const toggle = box.querySelector("[data-offline-toggle]");
  const status = box.querySelector("[data-offline-status]");
  const say = (which) => {
    const template = box.querySelector(`[data-offline-${which}]`);
    status.textContent = template.content.textContent.trim();
  };
  box.hidden = false;
  toggle.checked = localStorage.getItem(KEY) === "1";
  say(toggle.checked ? "on" : "off");
  toggle.addEventListener("change", async () => {
    const registration = await navigator.serviceWorker.ready;
    const worker = navigator.serviceWorker.controller || registration.active;
    const wanted = toggle.checked;
    const kept = await new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(Boolean(event.data && event.data.kept));
      worker.postMessage({ type: "keep", what, on: wanted }, [channel.port2]);
      setTimeout(() => resolve(false), 10000);
    });
    toggle.checked = kept;
    if (kept) localStorage.setItem(KEY, "1"); else localStorage.removeItem(KEY);
    say(kept ? "on" : (wanted ? "failed" : "off"));
  });
}
