// The desktop's heartbeat: while a desktop is open, tell the server every minute (routing sets
// an agent offline when no desktop of his has been seen for a while). A static file: the
// Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var EVERY = 60 * 1000;
  function beat() {
    var csrf = document.body && document.body.dataset.csrf;
    if (!csrf || !document.querySelector(".rail")) return;
    fetch("/presence/heartbeat", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
    }).catch(function () { /* offline for a moment: the next beat tries again */ });
  }
  function start() { beat(); setInterval(beat, EVERY); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
