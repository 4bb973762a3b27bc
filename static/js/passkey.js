/* Passkeys for staff's two-factor sign-in (server/accounts/passkeys.py): registering one on
   "Verifikasi dua langkah", and "Gunakan passkey" on the code step. WebAuthn speaks ArrayBuffers; the server
   speaks base64url JSON (py_webauthn's options_to_json and its credential parser). No framework, no inline
   script: the pages load this file only where it is needed. */
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) {
    return; // the pages say so without us: the form stays hidden, the "cannot" line stays
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function fromB64(value) {
    var text = value.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var raw = atob(text), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: fromB64(item.id), transports: item.transports };
    });
  }

  function creationOptions(json) {
    var o = JSON.parse(json);
    o.challenge = fromB64(o.challenge);
    o.user.id = fromB64(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return o;
  }

  function requestOptions(json) {
    var o = JSON.parse(json);
    o.challenge = fromB64(o.challenge);
    o.allowCredentials = descriptors(o.allowCredentials);
    return o;
  }

  function credentialJson(credential) {
    var r = credential.response, response = { clientDataJSON: toB64(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64(r.authenticatorData);
      response.signature = toB64(r.signature);
      if (r.userHandle) { response.userHandle = toB64(r.userHandle); }
    }
    return { id: credential.id, rawId: toB64(credential.rawId), type: credential.type, response: response,
             clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {} };
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { data.ok = response.ok; return data; });
    });
  }

  function say(box, text) {
    box.textContent = text || "";
    if (text) { box.setAttribute("tabindex", "-1"); box.focus(); }
  }

  /* Registering: password and code first (the server checks them and gives a challenge), then the device. */
  var form = document.querySelector("[data-passkey-register]");
  if (form) {
    var unsupported = document.querySelector("[data-passkey-unsupported]");
    if (unsupported) { unsupported.hidden = true; }
    form.hidden = false;
    var box = form.querySelector("[data-passkey-error]");
    var cancelled = form.getAttribute("data-cancelled");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      say(box, "");
      var name = form.querySelector('[name="passkey_name"]').value;
      fetch(form.action, { method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form)) })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.errors) {
            say(box, Object.keys(data.errors).map(function (k) { return data.errors[k]; }).join(" "));
            return null;
          }
          return navigator.credentials.create({ publicKey: creationOptions(data.options) })
            .then(function (credential) {
              return postJson(form.action.replace(/\/mulai$/, ""), { credential: credentialJson(credential), name: name });
            }, function () { say(box, cancelled); return null; });
        })
        .then(function (data) {
          if (!data) { return; }
          if (data.next) { window.location.assign(data.next); } else { say(box, data.error); }
        })
        .catch(function () { say(box, cancelled); });
    });
  }

  /* Signing in: the second step with a passkey instead of the code. */
  var signin = document.querySelector("[data-passkey-signin]");
  if (signin) {
    signin.hidden = false;
    var signinBox = signin.querySelector("[data-passkey-error]");
    var cancelledSignin = signin.getAttribute("data-cancelled");
    signin.querySelector("[data-passkey-use]").addEventListener("click", function () {
      say(signinBox, "");
      postJson("/masuk/passkey/opsi", {})
        .then(function (data) {
          if (!data.options) { say(signinBox, data.error); return null; }
          return navigator.credentials.get({ publicKey: requestOptions(data.options) })
            .then(function (credential) {
              return postJson("/masuk/passkey", { credential: credentialJson(credential) });
            }, function () { say(signinBox, cancelledSignin); return null; });
        })
        .then(function (data) {
          if (!data) { return; }
          if (data.next) { window.location.assign(data.next); } else { say(signinBox, data.error); }
        })
        .catch(function () { say(signinBox, cancelledSignin); });
    });
  }
})();
