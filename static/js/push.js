// Web push on this phone: subscribe with the server's VAPID key, or unsubscribe.
const box = document.querySelector("[data-push]");

const keyBytes = (base64url) => {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
};

const csrfToken = () => (document.querySelector('input[name="csrf_token"]') || {}).value || "";

const post = async (url, body) => {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error || box.dataset.failed);
    error.resubscribe = Boolean(data.resubscribe);
    throw error;
  }
  return data;
};

// On a shared phone the browser may still hold another account's subscription. The server
// never moves it to this account; we drop it and ask for a new one, once.
const subscribeHere = async (registration) => {
  const options = { userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.publicKey) };
  const subscription = await registration.pushManager.subscribe(options);
  try {
    return await post(box.dataset.subscribeUrl, subscription.toJSON());
  } catch (err) {
    if (!err.resubscribe) throw err;
    await subscription.unsubscribe();
    const fresh = await registration.pushManager.subscribe(options);
    return post(box.dataset.subscribeUrl, fresh.toJSON());
  }
};

const show = (subscribed, text) => {
  box.querySelector("[data-push-on]").hidden = subscribed;
  box.querySelector("[data-push-off]").hidden = !subscribed;
  if (text !== undefined) box.querySelector("[data-push-status]").textContent = text;
};

if (box && "serviceWorker" in navigator && "PushManager" in window && box.dataset.publicKey) {
  box.hidden = false;
  document.querySelectorAll("[data-push-unsupported]").forEach((el) => { el.hidden = true; });
  navigator.serviceWorker.ready.then(async (registration) => {
    show(Boolean(await registration.pushManager.getSubscription()));
    box.querySelector("[data-push-on]").addEventListener("click", async () => {
      try {
        if ((await Notification.requestPermission()) !== "granted") {
          show(false, box.dataset.blocked);
          return;
        }
        const result = await subscribeHere(registration);
        show(true, result.message);
      } catch (err) {
        show(false, err.message || box.dataset.failed);
      }
    });
    box.querySelector("[data-push-off]").addEventListener("click", async () => {
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        const result = await post(box.dataset.unsubscribeUrl, { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
        show(false, result.message);
      } else {
        show(false);
      }
    });
  });
}
