/* Hands the chat session created by the short-link form to the web chat page: the widget reads
 * its visitor token from localStorage under "threadline.webchat.<account>" (no URL carries it).
 * The page stays until the visitor continues, so that he can note his proof code first. */
(function () {
  "use strict";
  var node = document.getElementById("hop-handoff");
  if (!node) { return; }
  var account = node.getAttribute("data-account");
  var value = { token: node.getAttribute("data-token"), identifier: "", link: "" };
  try { window.localStorage.setItem("threadline.webchat." + account, JSON.stringify(value)); }
  catch (e) { /* storage blocked: the link still opens the chat, at its entry form */ }
})();
