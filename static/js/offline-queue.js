// Reports written with no signal: kept on this phone (IndexedDB) and sent by themselves when the phone is back
// online — by Background Sync in the service worker where the browser has it, otherwise when a page of the app
// opens or the `online` event fires. The server drops repeats by the form's idempotency key, so sending twice can
// never make two reports; a repeat whose first answer was lost gets the receipt again, from this browser only.
// What a child wrote and their PIN are kept no longer than needed: a report leaves the phone's storage in the same
// transaction that keeps its receipt, and a receipt leaves it as soon as a page has shown it.
// This file runs in pages and, through importScripts, in the service worker.
(function (scope) {
  "use strict";
  var DB_NAME = "bintang-ceria";
  var OUTBOX = "outbox";
  var RECEIPTS = "receipts";
  var SYNC_TAG = "bintang-outbox";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(OUTBOX, { keyPath: "key" });
        request.result.createObjectStore(RECEIPTS, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(store, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store, mode);
        var result = work(tx.objectStore(store));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  var queue = {
    SYNC_TAG: SYNC_TAG,
    save: function (item) { return run(OUTBOX, "readwrite", function (s) { return s.put(item); }); },
    pending: function () { return run(OUTBOX, "readonly", function (s) { return s.getAll(); }); },
    receipts: function () { return run(RECEIPTS, "readonly", function (s) { return s.getAll(); }); },
    forgetReceipt: function (key) { return run(RECEIPTS, "readwrite", function (s) { return s.delete(key); }); },
    forget: function (key) { return run(OUTBOX, "readwrite", function (s) { return s.delete(key); }); },

    // The receipt kept and the report it answers wiped together: never both, never neither. A page and the
    // service worker may both send the same report when the signal returns; only the one that still finds it
    // waiting keeps the receipt, so a receipt already shown and forgotten never comes back.
    sent: function (key, receipt) {
      return openDb().then(function (db) {
        return new Promise(function (resolve, reject) {
          var tx = db.transaction([OUTBOX, RECEIPTS], "readwrite");
          var outbox = tx.objectStore(OUTBOX);
          outbox.getKey(key).onsuccess = function (event) {
            if (event.target.result === undefined) return;
            tx.objectStore(RECEIPTS).put(receipt);
            outbox.delete(key);
          };
          tx.oncomplete = function () { db.close(); resolve(); };
          tx.onerror = function () { db.close(); reject(tx.error); };
        });
      });
    },

    // Send everything waiting, oldest first. Stops at the first network failure or server trouble (try again
    // later); a form the server refuses (422) stays on the phone, marked, for the person to open and fix.
    replay: function () {
      return queue.pending().then(function (items) {
        items.sort(function (a, b) { return a.savedAt - b.savedAt; });
        var sent = 0;
        return items.reduce(function (chain, item) {
          return chain.then(function (stop) {
            if (stop || item.refused) return stop;
            return fetch(item.action, {
              method: "POST",
              body: item.body,
              credentials: "same-origin",
              headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" }
            }).then(function (response) {
              if (response.ok) {
                return response.json().then(function (receipt) {
                  receipt.key = item.key;
                  receipt.sentAt = Date.now();
                  sent += 1;
                  return queue.sent(item.key, receipt).then(function () { return false; });
                });
              }
              if (response.status === 422 || response.status === 403) {
                item.refused = true;
                return queue.save(item).then(function () { return false; });
              }
              return true;
            }, function () { return true; });
          });
        }, Promise.resolve(false)).then(function () { return sent; });
      });
    }
  };
  scope.BintangQueue = queue;

  if (typeof document === "undefined") return;

  // --- in pages ---------------------------------------------------------------------------------------------

  function say(element, text) {
    if (!element) return;
    element.textContent = text;
    element.hidden = !text;
  }

  function newKey() {
    if (scope.crypto && scope.crypto.randomUUID) return scope.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    scope.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(false);
    return navigator.serviceWorker.ready.then(function (registration) {
      if (!registration.sync) return false;
      return registration.sync.register(SYNC_TAG).then(function () { return true; }, function () { return false; });
    });
  }

  // The banner that tells what is waiting on this phone, and shows receipts of reports sent in the background.
  function showState() {
    var banner = document.querySelector("[data-outbox-banner]");
    if (!banner) return Promise.resolve();
    return Promise.all([queue.pending(), queue.receipts()]).then(function (found) {
      var pending = found[0], receipts = found[1];
      var waiting = pending.filter(function (i) { return !i.refused; }).length;
      var refused = pending.filter(function (i) { return i.refused; });
      say(banner.querySelector("[data-outbox-waiting]"), waiting ? banner.dataset.waiting : "");
      var fix = banner.querySelector("[data-outbox-refused]");
      if (fix) {
        fix.hidden = !refused.length;
        if (refused.length) fix.href = "/lapor?dari_hp=" + encodeURIComponent(refused[0].key);
      }
      var slot = banner.querySelector("[data-outbox-receipts]");
      var template = document.querySelector("[data-receipt-template]");
      var showing = Promise.resolve();
      if (slot && template) {
        // Receipts already shown stay as they are, on this page only, until "Sudah saya simpan": this runs again
        // whenever the connection returns or the service worker reports a send, and rebuilding them would take the
        // focus away from someone on that button. Once on the page, a receipt (the PIN) leaves the phone's storage.
        var shown = {};
        Array.prototype.forEach.call(slot.children, function (view) { shown[view.dataset.receiptKey] = true; });
        receipts.forEach(function (receipt) {
          if (shown[receipt.key]) return;
          var view = template.content.cloneNode(true);
          var root = view.firstElementChild;
          root.dataset.receiptKey = receipt.key;
          var code = view.querySelector("[data-receipt-code]");
          var pin = view.querySelector("[data-receipt-pin]");
          var link = view.querySelector("[data-receipt-link]");
          var copy = view.querySelector("[data-copy-receipt]");
          if (receipt.code) {
            code.textContent = receipt.code;
            pin.textContent = receipt.pin;
            copy.dataset.code = receipt.code;
            copy.dataset.pin = receipt.pin;
            if (scope.BintangCopyReceipt) scope.BintangCopyReceipt(copy, view.querySelector("[data-copy-status]"));
          } else {
            Array.prototype.forEach.call(view.querySelectorAll("[data-receipt-secret]"), function (secret) {
              secret.hidden = true;
            });
          }
          if (receipt.url) { link.href = receipt.url; link.hidden = false; }
          view.querySelector("[data-receipt-done]").addEventListener("click", function () {
            slot.removeChild(root);
            showState();
          });
          slot.appendChild(view);
          shown[receipt.key] = true;
        });
        showing = Promise.all(receipts.map(function (receipt) { return queue.forgetReceipt(receipt.key); }));
      }
      banner.hidden = !(waiting || refused.length || (slot && slot.children.length));
      return showing.then(function () {
        banner.dataset.shown = String((Number(banner.dataset.shown) || 0) + 1);  // times brought up to date
      });
    });
  }

  function replayAndShow() {
    return queue.replay().then(showState, showState);
  }

  function fillFrom(form, item) {
    new URLSearchParams(item.body).forEach(function (value, name) {
      if (name === "_csrf_token") return;
      var fields = form.querySelectorAll('[name="' + name + '"]');
      Array.prototype.forEach.call(fields, function (field) {
        if (field.type === "checkbox" || field.type === "radio") field.checked = field.checked || field.value === value;
        else field.value = value;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-offline-queue]");
    if (form) {
      var keyField = form.querySelector("[data-idempotency-key]");
      var params = new URLSearchParams(location.search);
      var fromPhone = params.get("dari_hp");
      if (fromPhone) {
        queue.pending().then(function (items) {
          items.forEach(function (item) {
            if (item.key !== fromPhone) return;
            fillFrom(form, item);
            queue.forget(item.key);
            form.dispatchEvent(new Event("change"));
          });
        });
      }
      if (keyField && !keyField.value) keyField.value = newKey();
      var status = form.querySelector("[data-offline-status]");
      form.addEventListener("submit", function (event) {
        if (navigator.onLine !== false) return;
        event.preventDefault();
        var body = new URLSearchParams(new FormData(form)).toString();
        queue.save({ key: keyField.value, action: form.action, body: body, savedAt: Date.now() })
          .then(askForSync)
          .then(function () {
            say(status, form.dataset.savedText);
            keyField.value = newKey();
            return showState();
          });
      });
    }
    replayAndShow();
  });
  scope.addEventListener("online", replayAndShow);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "outbox-sent") showState();
    });
  }
})(self);
