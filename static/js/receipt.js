// The receipt's "Salin" button: copies the code and the PIN in one go. The button is in the page hidden and
// shown only where the browser can write to the clipboard; everywhere else people copy or write them by hand.
(function () {
  "use strict";
  var button = document.querySelector("[data-copy-receipt]");
  if (!button || !navigator.clipboard || !navigator.clipboard.writeText) return;
  var status = document.querySelector("[data-copy-status]");
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
})();
