// "Keep my appointments on this phone": an opt-in per device. The choice lives
// in this browser only; the service worker keeps the copy and deletes it on
// sign-out or when the box is unticked.
const box = document.querySelector("[data-offline-copy]");
const KEY = "folge-keep-appointments";

if (box && "serviceWorker" in navigator && "caches" in window) {
  const toggle = box.querySelector("[data-offline-toggle]");
  const status = box.querySelector("[data-offline-status]");
  const say = (on) => {
    const template = box.querySelector(on ? "[data-offline-on]" : "[data-offline-off]");
    status.textContent = template.content.textContent.trim();
  };
  box.hidden = false;
  toggle.checked = localStorage.getItem(KEY) === "1";
  say(toggle.checked);
  toggle.addEventListener("change", async () => {
    const registration = await navigator.serviceWorker.ready;
    const worker = navigator.serviceWorker.controller || registration.active;
    if (toggle.checked) localStorage.setItem(KEY, "1"); else localStorage.removeItem(KEY);
    const done = new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve();
      worker.postMessage({ type: "keep-appointments", on: toggle.checked }, [channel.port2]);
      setTimeout(resolve, 5000);
    });
    await done;
    say(toggle.checked);
  });
}
