// The admin console's own script (no inline script: the Content-Security-Policy forbids it).
// Pages work without it; it adds passkeys, which only a script can reach.
"use strict";

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "===".slice((base64.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// The server's request options (binary fields in base64url) as the browser's API takes them.
function requestOptions(json) {
  const o = json.publicKey;
  const out = Object.assign({}, o, { challenge: fromBase64url(o.challenge) });
  if (o.allowCredentials) {
    out.allowCredentials = o.allowCredentials.map((c) => Object.assign({}, c, { id: fromBase64url(c.id) }));
  }
  return { publicKey: out };
}

// An assertion as the server reads it (PublicKeyCredential.toJSON where the browser lacks it).
function assertionJson(cred) {
  if (typeof cred.toJSON === "function") return cred.toJSON();
  const r = cred.response;
  return {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      authenticatorData: toBase64url(r.authenticatorData),
      signature: toBase64url(r.signature),
      userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
    },
    clientExtensionResults: cred.getClientExtensionResults(),
  };
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-passkey-options]")) {
    button.addEventListener("click", async () => {
      const form = button.closest("form");
      try {
        const options = requestOptions(JSON.parse(button.dataset.passkeyOptions));
        const cred = await navigator.credentials.get(options);
        form.elements.passkey.value = JSON.stringify(assertionJson(cred));
        form.submit();
      } catch (e) {
        button.textContent = button.textContent + " ✗";
      }
    });
  }
});

// The server's creation options (binary fields in base64url) as the browser's API takes them.
function creationOptions(json) {
  const o = json.publicKey;
  const out = Object.assign({}, o, {
    challenge: fromBase64url(o.challenge),
    user: Object.assign({}, o.user, { id: fromBase64url(o.user.id) }),
  });
  if (o.excludeCredentials) {
    out.excludeCredentials = o.excludeCredentials.map((c) => Object.assign({}, c, { id: fromBase64url(c.id) }));
  }
  return { publicKey: out };
}

// A new credential as the server reads it (PublicKeyCredential.toJSON where the browser lacks it).
function credentialJson(cred) {
  if (typeof cred.toJSON === "function") return cred.toJSON();
  const r = cred.response;
  return {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      attestationObject: toBase64url(r.attestationObject),
      transports: typeof r.getTransports === "function" ? r.getTransports() : [],
    },
    clientExtensionResults: cred.getClientExtensionResults(),
  };
}

async function postJson(url, csrf, body) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify(body),
  });
  const answer = await r.json();
  if (!r.ok) throw new Error(answer.error || String(r.status));
  return answer;
}

document.addEventListener("DOMContentLoaded", () => {
  // Passwordless: the server opens a ceremony, any passkey of this site answers it.
  for (const button of document.querySelectorAll("[data-passkey-sign-in]")) {
    button.addEventListener("click", async () => {
      const form = button.closest("form");
      try {
        const begun = await postJson(button.dataset.passkeySignIn, button.dataset.csrf, {});
        const cred = await navigator.credentials.get(requestOptions(begun.options));
        form.elements.passkey_token.value = begun.passkey_token;
        form.elements.passkey.value = JSON.stringify(assertionJson(cred));
        form.submit();
      } catch (e) {
        button.textContent = button.textContent + " ✗";
      }
    });
  }
  for (const button of document.querySelectorAll("[data-register-passkey]")) {
    button.addEventListener("click", async () => {
      const base = button.dataset.registerPasskey;
      const csrf = button.dataset.csrf;
      const form = button.closest("form");
      const status = form.querySelector(".status");
      try {
        const begun = await postJson(base + "/begin", csrf, {
          password: form.elements.password.value,
        });
        const cred = await navigator.credentials.create(creationOptions(begun.options));
        await postJson(base + "/finish", csrf, {
          passkey_token: begun.passkey_token,
          name: form.elements.name.value,
          credential: credentialJson(cred),
        });
        window.location.reload();
      } catch (e) {
        status.textContent = e.message;
      }
    });
  }
});
