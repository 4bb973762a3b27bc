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
})();
