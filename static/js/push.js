// Push notifications on this device: offered only from a tap (never on page load), re-sent to the server on
// each visit so that it stays current, and turned off from the settings page. The texts of the card are in the
// page (translated there); this file only switches which of them is shown.
(function () {
  "use strict";

  var SENT_MARK = "bintang-push-sent";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function supported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  // iOS lets a web app use push only once it is added to the home screen and opened from there.
  function iosOutsideApp() {
    var ios = /iphone|ipad|ipod/i.test(navigator.userAgent) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
    var standalone = window.navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
    return ios && !standalone;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) throw new Error("server answered " + response.status);
      return response;
    });
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function registration() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function currentSubscription() {
    return registration().then(function (reg) { return reg.pushManager.getSubscription(); });
  }

  function subscribe() {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error(permission);
      return Promise.all([
        registration(),
        fetch("/push/kunci", { credentials: "same-origin" }).then(function (r) { return r.json(); })
      ]);
    }).then(function (parts) {
      return parts[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(parts[1].publicKey) });
    }).then(function (subscription) {
      return post("/push/langganan", subscription.toJSON()).then(function () { return subscription; });
    });
  }

  function unsubscribe() {
    return currentSubscription().then(function (subscription) {
      if (!subscription) return null;
      return post("/push/berhenti", { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      });
    });
  }

  // One card (or the settings block) shows one of its [data-push-state] parts at a time.
  function show(card, state) {
    card.hidden = false;
    var parts = card.querySelectorAll("[data-push-state]");
    for (var i = 0; i < parts.length; i += 1) parts[i].hidden = parts[i].getAttribute("data-push-state") !== state;
  }

  function settle(card, subscription) {
    if (!supported()) return show(card, "unsupported");
    if (iosOutsideApp()) return show(card, "ios");
    if (Notification.permission === "denied") return show(card, "denied");
    if (subscription && Notification.permission === "granted") return show(card, "on");
    return show(card, "off");
  }

  function wire(card) {
    var enable = card.querySelector("[data-push-enable]");
    var disable = card.querySelector("[data-push-disable]");
    if (enable) {
      enable.addEventListener("click", function () {
        enable.disabled = true;
        subscribe().then(function (subscription) {
          settle(card, subscription);
        }, function () {
          show(card, Notification.permission === "denied" ? "denied" : "failed");
        }).then(function () { enable.disabled = false; });
      });
    }
    if (disable) {
      disable.addEventListener("click", function () {
        disable.disabled = true;
        unsubscribe().then(function () { settle(card, null); }, function () { show(card, "failed"); })
          .then(function () { disable.disabled = false; });
      });
    }
  }

  function start() {
    var cards = document.querySelectorAll("[data-push-card]");
    if (!supported()) {
      for (var i = 0; i < cards.length; i += 1) settle(cards[i], null);
      return;
    }
    currentSubscription().then(function (subscription) {
      for (var j = 0; j < cards.length; j += 1) {
        wire(cards[j]);
        // An offer (not the settings block) stays away once this device has push on.
        if (subscription && cards[j].hasAttribute("data-push-offer") && Notification.permission === "granted") continue;
        settle(cards[j], subscription);
      }
      // Re-sent once per visit: the server learns the current keys, language and owner of this device.
      var alreadySent;
      try { alreadySent = sessionStorage.getItem(SENT_MARK) === "1"; } catch (error) { alreadySent = false; }
      if (subscription && Notification.permission === "granted" && !alreadySent) {
        post("/push/langganan", subscription.toJSON()).then(function () {
          try { sessionStorage.setItem(SENT_MARK, "1"); } catch (error) { /* storage off: sent again next page */ }
        }, function () { /* signed out or offline: nothing to update */ });
      }
    }, function () {
      for (var k = 0; k < cards.length; k += 1) settle(cards[k], null);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
