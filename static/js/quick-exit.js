// Quick exit ("Keluar cepat"), after GOV.UK's "Exit this page": the button, or Shift pressed three times,
// hides the page at once, ends the session, clears what the app stored on this phone and replaces the page
// with a neutral site, so that Back does not bring it back. Loaded synchronously in <head>: a page reached by
// Back after a quick exit must be left before it is ever shown.
(function () {
  "use strict";

  // Kept in sessionStorage because it belongs to this tab's history, which is all Back can reach.
  var MARKER = "bintang-keluar-cepat";
  var SHIFT_PRESSES = 3;
  var SHIFT_WINDOW_MS = 5000;
  // The page is hidden at once; leaving waits for the sign-out and the clearing, which take milliseconds on
  // a working connection, but never longer than this on a bad one.
  var EXIT_WAIT_MS = 750;

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

  // Resolves when the server has answered, or at once when it cannot be reached.
  function endSession() {
    try {
      // keepalive: the sign-out must reach the server even if this page is gone first.
      return quietly(fetch("/keluar-cepat", {
        method: "POST",
        keepalive: true,
        credentials: "same-origin",
        headers: { "X-CSRFToken": meta("csrf-token") }
      }));
    } catch (error) {
      // No fetch in this browser: the page still goes, and what was stored here is still cleared.
      return Promise.resolve();
    }
  }

  function deleteDatabase(name) {
    return new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(name);
      // "blocked" means a connection of this page is open; the deletion goes ahead once the page has gone.
      request.onsuccess = request.onerror = request.onblocked = resolve;
    });
  }

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
    // With its caches gone the worker could no longer show the offline page; the next visit installs it anew.
    if (navigator.serviceWorker) {
      pending.push(quietly(navigator.serviceWorker.getRegistrations().then(function (registrations) {
        return Promise.all(registrations.map(function (registration) { return registration.unregister(); }));
      })));
    }
    if (window.indexedDB && indexedDB.databases) {
      pending.push(quietly(indexedDB.databases().then(function (databases) {
        return Promise.all(databases.map(function (database) { return deleteDatabase(database.name); }));
      })));
    }
    return Promise.all(pending);
  }

  function quickExit() {
    if (exiting) return;
    exiting = true;
    document.documentElement.classList.add("quick-exiting");
    var answered = endSession();
    var cleared = clearStoredData();
    var gone = false;
    function markAndLeave() {
      if (gone) return;
      gone = true;
      // Written only now: the server's Clear-Site-Data answer erases sessionStorage, the marker with it.
      try {
        sessionStorage.setItem(MARKER, "1");
      } catch (error) {
        // Storage switched off: Back may show this site again, but nothing of it is stored.
      }
      leave();
    }
    Promise.all([answered, cleared]).then(markAndLeave, markAndLeave);
    setTimeout(markAndLeave, EXIT_WAIT_MS);
  }

  var navigation = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  if (navigation && navigation.type === "back_forward") {
    if (marked()) leave();
  } else {
    // The person came here on purpose (typed the address, followed a link): the site works normally again.
    forget();
  }
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && marked()) leave();
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
