// The iPhone's note on adding the app to the Home Screen: Safari on iOS lets a web page send push only once it
// is opened from the Home Screen. The note's text is in the page (translated there); this file only shows it on
// an iPhone or iPad whose page is not already the installed app.
(function () {
  "use strict";

  function iosOutsideApp() {
    var ios = /iphone|ipad|ipod/i.test(navigator.userAgent) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
    var standalone = window.navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
    return ios && !standalone;
  }

  function show() {
    if (!iosOutsideApp()) return;
    var notes = document.querySelectorAll("[data-home-screen-note]");
    for (var i = 0; i < notes.length; i += 1) notes[i].hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", show);
  } else {
    show();
  }
}());
