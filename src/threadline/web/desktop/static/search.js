// The search box in the top bar: "/" or Ctrl+K (Cmd+K) focuses it from anywhere, except while
// typing in another text box ("/" types a slash there; Ctrl+K still jumps). Esc leaves it.
(function () {
  "use strict";
  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
  }
  function box() { return document.getElementById("global-search"); }
  document.addEventListener("keydown", function (event) {
    var input = box();
    if (!input) return;
    var ctrlK = (event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "k" || event.key === "K");
    var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target);
    if (ctrlK || slash) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
})();
