// Passkeys (WebAuthn): add one after signing in, and sign in with one.
// Progressive: the buttons stay hidden unless this browser supports passkeys.

const b64urlToBytes = (value) => {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
};

const bytesToB64url = (buffer) => {
  let text = "";
  new Uint8Array(buffer).forEach((b) => { text += String.fromCharCode(b); });
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const csrfToken = () => {
  const field = document.querySelector('input[name="csrf_token"]');
  return field ? field.value : "";
};

const postJson = async (url, body) => {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: body === undefined ? "{}" : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
};

const credentialToJson = (credential) => {
  const r = credential.response;
  const json = {
    id: credential.id,
    rawId: bytesToB64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: bytesToB64url(r.clientDataJSON) },
  };
  if (r.attestationObject) {
    json.response.attestationObject = bytesToB64url(r.attestationObject);
    json.response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    json.response.authenticatorData = bytesToB64url(r.authenticatorData);
    json.response.signature = bytesToB64url(r.signature);
    json.response.userHandle = r.userHandle ? bytesToB64url(r.userHandle) : null;
  }
  return json;
};

const setUp = (box, run) => {
  const button = box.querySelector("[data-passkey-button]");
  const error = box.querySelector("[data-passkey-error]");
  box.hidden = false;
  document.querySelectorAll("[data-passkey-unsupported]").forEach((el) => { el.hidden = true; });
  button.addEventListener("click", async () => {
    error.hidden = true;
    button.disabled = true;
    try {
      const result = await run(box.dataset.optionsUrl, box.dataset.finishUrl);
      if (result.redirect) window.location.assign(result.redirect);
    } catch (err) {
      // The browser's own text for a cancelled or timed-out passkey is technical and
      // in its own language; show the page's translated sentence instead.
      error.textContent = err && (err.name === "NotAllowedError" || err.name === "AbortError")
        ? box.dataset.cancelledMessage
        : err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
};

const register = async (optionsUrl, finishUrl) => {
  const options = await postJson(optionsUrl);
  options.challenge = b64urlToBytes(options.challenge);
  options.user.id = b64urlToBytes(options.user.id);
  options.excludeCredentials = (options.excludeCredentials || []).map((c) => ({ ...c, id: b64urlToBytes(c.id) }));
  const credential = await navigator.credentials.create({ publicKey: options });
  return postJson(finishUrl, credentialToJson(credential));
};

const signIn = async (optionsUrl, finishUrl) => {
  const options = await postJson(optionsUrl);
  options.challenge = b64urlToBytes(options.challenge);
  options.allowCredentials = (options.allowCredentials || []).map((c) => ({ ...c, id: b64urlToBytes(c.id) }));
  const credential = await navigator.credentials.get({ publicKey: options });
  return postJson(finishUrl, credentialToJson(credential));
};

if (window.PublicKeyCredential) {
  document.querySelectorAll("[data-passkey-register]").forEach((box) => setUp(box, register));
  document.querySelectorAll("[data-passkey-sign-in]").forEach((box) => setUp(box, signIn));
} else {
  // No passkeys in this browser: give up the place kept for the card.
  document.querySelectorAll(".passkey-card").forEach((box) => box.classList.remove("passkey-card"));
}
