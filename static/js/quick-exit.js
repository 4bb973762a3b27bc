// Quick exit ("Keluar cepat"), after GOV.UK's "Exit this page": the button, or Shift pressed three times,
// hides the page at once, ends the session, clears what the app stored on this phone and replaces the page
// with a neutral site, so that Back does not bring it back. Loaded synchronously in <head>: a page reached by
// Back after a quick exit must be left before it is ever shown.
(function () {
  "use strict";

  // The one script that runs before the first paint, so it also tells the CSS that scripts run here: what
  // they change later (the report form's steps) is laid out that way from the start, without a jump.
  document.documentElement.classList.add("js");

  // Kept in sessionStorage because it belongs to this tab's history, which is all Back can reach. Nothing but
  // this page may erase it: the server's answer asks the browser to clear cookies and caches, never storage
  // (server/pwa/routes.py), because that answer may come after the page has gone, even after Back.
  var MARKER = "bintang-keluar-cepat";
  var SHIFT_PRESSES = 3;
  var SHIFT_WINDOW_MS = 5000;
  // The page is hidden at once. Leaving waits for what this page clears itself (no network: milliseconds), and
  // for the sign-out's answer and the push service, but never longer than this on a bad connection.
  var EXIT_WAIT_MS = 750;
  // A storage call that never settles (a browser bug) must not keep the child on a blank page.
  var CLEAR_WAIT_MAX_MS = 3000;
  // The app's own IndexedDB databases (static/js/offline-queue.js): the report queue and its receipts.
  var KNOWN_DATABASES = ["bintang-ceria"];

  var exiting = false;

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.content : "";
  }

  function neutralUrl() {
    // A missing setting must not turn quick exit into a reload of this very page.
    return meta("quick-exit-url") || "about:blank";
  }

  function leave() {
    document.documentElement.classList.add("quick-exiting");
    location.replace(neutralUrl());
  }

  function marked() {
    try {
      return sessionStorage.getItem(MARKER) === "1";
    } catch (error) {
      return false;
    }
  }

  function forget() {
    try {
      sessionStorage.removeItem(MARKER);
    } catch (error) {
      // Storage switched off: there is no marker either.
    }
  }

  function quietly(promise) {
    return promise.then(null, function () {});
  }

  // This device's push subscription, if it has one: quick exit turns push off here too.
  function pushSubscription() {
    try {
      if (!navigator.serviceWorker || !window.PushManager) return Promise.resolve(null);
      return navigator.serviceWorker.getRegistration().then(function (registration) {
        return registration ? registration.pushManager.getSubscription() : null;
      }).then(null, function () { return null; });
    } catch (error) {
      return Promise.resolve(null);
    }
  }

  // Resolves when the server has answered, or at once when it cannot be reached.
  function endSession(subscription) {
    return subscription.then(function (found) {
      // keepalive: the sign-out must reach the server even if this page is gone first.
      return fetch("/keluar-cepat", {
        method: "POST",
        keepalive: true,
        credentials: "same-origin",
        headers: { "X-CSRFToken": meta("csrf-token"), "Content-Type": "application/json" },
        body: JSON.stringify({ endpoint: found ? found.endpoint : null })
      });
    }).then(null, function () {
      // No fetch in this browser, or no signal: the page still goes, and what was stored here is still cleared.
    });
  }

  function deleteDatabase(name) {
    return new Promise(function (resolve) {
      try {
        var request = indexedDB.deleteDatabase(name);
        // "blocked" means a connection of this page is open; the deletion goes ahead once the page has gone.
        request.onsuccess = request.onerror = request.onblocked = resolve;
      } catch (error) {
        resolve();  // storage switched off: nothing was stored there
      }
    });
  }

  // The push service forgets this device; it is asked over the network, so leaving waits for it as for the
  // sign-out. Unregistering the worker below ends the subscription on the phone in any case.
  function turnPushOff(subscription) {
    return quietly(subscription.then(function (found) { return found ? found.unsubscribe() : null; }));
  }

  // Everything the app stored on this phone, cleared by this page: its promises need no network, and the page
  // does not leave before they have settled (a call chained on one of them would never be made once it has).
  function clearStoredData() {
    try {
      localStorage.clear();
      sessionStorage.clear();
    } catch (error) {
      // Storage switched off: nothing was stored there.
    }
    var pending = [];
    if (window.caches) {
      pending.push(quietly(caches.keys().then(function (names) {
        return Promise.all(names.map(function (name) { return caches.delete(name); }));
      })));
    }
    // The worker goes too: with its caches gone it could no longer show the offline page; the next visit
    // installs it anew.
    if (navigator.serviceWorker) {
      pending.push(quietly(navigator.serviceWorker.getRegistrations().then(function (registrations) {
        return Promise.all(registrations.map(function (registration) { return registration.unregister(); }));
      })));
    }
    if (window.indexedDB) {
      // By name, always: indexedDB.databases() is missing in some browsers (Firefox before 126), and the offline
      // queue may still hold a report written with no signal. Whatever else is listed goes as well.
      KNOWN_DATABASES.forEach(function (name) { pending.push(deleteDatabase(name)); });
      if (indexedDB.databases) {
        pending.push(quietly(indexedDB.databases().then(function (databases) {
          return Promise.all(databases.map(function (database) { return deleteDatabase(database.name); }));
        })));
      }
    }
    return Promise.all(pending);
  }

  function after(milliseconds) {
    return new Promise(function (resolve) { setTimeout(resolve, milliseconds); });
  }

  // Marks the phone, before the sign-out is sent, as "signed out by quick exit": if the sign-out never reaches
  // the server, the next request of the app from this phone, in any tab, ends the sessions instead
  // (server/accounts/visitor.py). The sign-out's answer clears it with the other cookies.
  function markThePhone() {
    try {
      var cookie = meta("quick-exit-cookie");
      if (cookie) document.cookie = cookie;
    } catch (error) {
      // Cookies switched off: there is no session on this phone either.
    }
  }

  function quickExit() {
    if (exiting) return;
    exiting = true;
    document.documentElement.classList.add("quick-exiting");
    markThePhone();
    var subscription = pushSubscription();
    var answered = endSession(subscription);
    var pushOff = turnPushOff(subscription);
    var cleared = clearStoredData();
    var gone = false;
    function markAndLeave() {
      if (gone) return;
      gone = true;
      // Written last, after this page has cleared sessionStorage; no answer that comes later erases it.
      try {
        sessionStorage.setItem(MARKER, "1");
      } catch (error) {
        // Storage switched off: Back may show this site again, but nothing of it is stored.
      }
      leave();
    }
    var network = Promise.race([Promise.all([answered, pushOff]), after(EXIT_WAIT_MS)]);
    Promise.all([cleared, network]).then(markAndLeave, markAndLeave);
    setTimeout(markAndLeave, CLEAR_WAIT_MAX_MS);
  }

  // A page of the app reached by Back after a quick exit: it leaves before it is shown, and sends the sign-out
  // again, because the first one may never have reached the server (no signal, a dropped connection) and the
  // session the phone still holds must end as soon as there is a connection. keepalive lets it outlive the
  // page; whatever it answers changes nothing here.
  function leaveAgain() {
    endSession(Promise.resolve(null));
    leave();
  }

  var navigation = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  if (navigation && navigation.type === "back_forward") {
    if (marked()) leaveAgain();
  } else {
    // The person came here on purpose (typed the address, followed a link): the site works normally again.
    forget();
  }
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && marked()) leaveAgain();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-quick-exit]")) {
      event.preventDefault();
      quickExit();
    }
  });

  // Counted when Shift is let go, and only when it was pressed on its own: typing a capital letter is
  // not a step towards leaving, and neither is any other key in between (GOV.UK does the same).
  var shiftPresses = 0;
  var firstShiftAt = 0;
  var shiftModifiedAnotherKey = false;
  document.addEventListener("keydown", function (event) {
    if (event.key === "Shift") {
      if (!event.repeat) shiftModifiedAnotherKey = false;
      return;
    }
    shiftPresses = 0;
    if (event.shiftKey) shiftModifiedAnotherKey = true;
  });
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift" || shiftModifiedAnotherKey) return;
    var now = Date.now();
    if (shiftPresses === 0 || now - firstShiftAt > SHIFT_WINDOW_MS) {
      shiftPresses = 0;
      firstShiftAt = now;
    }
    shiftPresses += 1;
    if (shiftPresses === SHIFT_PRESSES) {
      shiftPresses = 0;
      quickExit();
    }
  });
})();
