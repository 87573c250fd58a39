/* Knowledge base on the desktop: a click on [data-kb-insert] (a suggested article or past
 * answer, or an article picked in the composer) puts its text into the composer at the
 * cursor. The reply is then sent like any other, through the outbound guard. */
(function () {
  "use strict";
  function insert(value) {
    var text = document.getElementById("composer-text");
    if (!text || !value) return false;
    var start = text.selectionStart || 0, end = text.selectionEnd || 0;
    var before = text.value.slice(0, start);
    var gap = before && !/\s$/.test(before) ? " " : "";
    text.value = before + gap + value + text.value.slice(end);
    text.focus();
    text.selectionStart = text.selectionEnd = start + gap.length + value.length;
    text.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-kb-insert]");
    if (!button) return;
    e.preventDefault();
    if (insert(button.getAttribute("data-kb-insert"))) {
      var picker = button.closest("details");
      if (picker) picker.open = false;
    }
  });
})();
