// Bintang Ceria: the little JavaScript the pages need. Behaviour lives here, never in inline handlers,
// so the Content-Security-Policy can forbid inline script.
(function () {
  "use strict";

  // htmx requests carry the CSRF token from the page's <meta>, like the hidden field in plain forms.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) event.detail.headers["X-CSRFToken"] = meta.content;
  });

  // After a form comes back with errors, move focus to the summary so screen readers announce it.
  function focusErrorSummary(root) {
    var summary = (root || document).querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrorSummary(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusErrorSummary(event.detail.target.parentNode || document); });

  // The row of days on the booking page scrolls sideways; a new day's times replace the row too, so bring the
  // chosen day back into view instead of leaving the row scrolled to its start.
  function showChosenDay() {
    var list = document.querySelector(".day-row__list");
    var chosen = list && list.querySelector('[aria-current="date"]');
    if (!chosen) return;
    var item = chosen.parentNode;
    var left = item.offsetLeft - list.offsetLeft;
    if (left < list.scrollLeft || left + item.offsetWidth > list.scrollLeft + list.clientWidth) {
      list.scrollLeft = Math.max(0, left - (list.clientWidth - item.offsetWidth) / 2);
    }
  }
  document.addEventListener("DOMContentLoaded", showChosenDay);
  document.addEventListener("htmx:afterSettle", showChosenDay);

  // A printed statistics page or KLA pack shows every chart's table, folded or not; afterwards they fold again.
  var openedForPrint = [];
  window.addEventListener("beforeprint", function () {
    openedForPrint = Array.prototype.filter.call(document.querySelectorAll("details.stat__numbers"), function (details) {
      return !details.open;
    });
    openedForPrint.forEach(function (details) { details.open = true; });
  });
  window.addEventListener("afterprint", function () {
    openedForPrint.forEach(function (details) { details.open = false; });
    openedForPrint = [];
  });

  // Closing a case: the check-in steps mean nothing once "Tanpa pemantauan" is chosen, so they cannot be ticked
  // then (the server ignores steps sent with "none" all the same).
  function syncCheckInSteps() {
    var none = document.querySelector('input[name="check_in_plan"][value="none"]');
    if (!none) return;
    document.querySelectorAll('input[name="check_in_steps"]').forEach(function (step) {
      step.disabled = none.checked;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "check_in_plan") syncCheckInSteps();
  });
  document.addEventListener("DOMContentLoaded", syncCheckInSteps);

  // The service worker. A new version waits until the person chooses to switch (the update banner), so a
  // page is never swapped from under someone who is typing.
  var switchingWorker = false;

  function offerUpdate(worker) {
    var banner = document.getElementById("update-banner");
    var button = banner && banner.querySelector("[data-update-now]");
    if (!button) return;
    button.onclick = function () {
      switchingWorker = true;
      worker.postMessage({ type: "SKIP_WAITING" });
    };
    banner.hidden = false;
  }

  function registerServiceWorker() {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
      // Without a controller this is the first install, not an update: nothing to offer.
      if (!navigator.serviceWorker.controller) return;
      if (registration.waiting) offerUpdate(registration.waiting);
      registration.addEventListener("updatefound", function () {
        var worker = registration.installing;
        if (!worker) return;
        worker.addEventListener("statechange", function () {
          if (worker.state === "installed" && registration.waiting === worker) offerUpdate(worker);
        });
      });
    }, function () {
      // Private browsing or a blocked worker: the site still works, only without offline pages.
    });
  }

  if ("serviceWorker" in navigator) {
    // Only the tab whose button was pressed reloads; other open tabs keep what the person typed there.
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      if (switchingWorker) window.location.reload();
    });
    window.addEventListener("load", registerServiceWorker);
  }
})();
