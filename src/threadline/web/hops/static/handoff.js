/* Hands the chat session created by the short-link form to the web chat page: the widget reads
 * its visitor token from localStorage under "threadline.webchat.<account>" (no URL carries it).
 * The page stays until the visitor continues, so that he can note his proof code first. The
 * "Continue" link gets its address only once the session is stored: a click before this
 * script ran opened the chat without it (at its entry form, the private context lost). */
(function () {
  "use strict";
  var node = document.getElementById("hop-handoff");
  if (!node) { return; }
  var account = node.getAttribute("data-account");
  var value = { token: node.getAttribute("data-token"), identifier: "", link: "" };
  try { window.localStorage.setItem("threadline.webchat." + account, JSON.stringify(value)); }
  catch (e) { /* storage blocked: the link still opens the chat, at its entry form */ }
  var go = document.getElementById("hop-continue");
  if (go) {
    go.setAttribute("href", node.getAttribute("data-url"));
    go.removeAttribute("aria-disabled");
    go.removeAttribute("role");
  }
})();
