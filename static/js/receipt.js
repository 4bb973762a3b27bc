// The receipt's "Salin" button: copies the code and the PIN in one go. The button is in the page hidden and
// shown only where the browser can write to the clipboard; everywhere else people copy or write them by hand.
// Used by the receipt page and by the banner that shows receipts of reports sent from the phone's queue
// (static/js/offline-queue.js), which fills in the code and the PIN itself.
(function (scope) {
  "use strict";
  function wire(button, status) {
    if (!button || !navigator.clipboard || !navigator.clipboard.writeText) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.dataset.codeLabel + ": " + button.dataset.code + "\n" + button.dataset.pinLabel + ": " +
        button.dataset.pin;
      navigator.clipboard.writeText(text).then(function () {
        status.textContent = status.dataset.copied;
      }, function () {
        status.textContent = status.dataset.failed;
      });
    });
  }
  scope.BintangCopyReceipt = wire;
  var onPage = document.querySelector("main [data-copy-receipt]");
  if (onPage) wire(onPage, document.querySelector("main [data-copy-status]"));
})(window);
