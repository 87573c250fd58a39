// The composer's WhatsApp template picker: the preview shows the template's body with the
// variables filled as the agent types them (textContent only: nothing typed becomes HTML).
// Loaded with the picker; one document listener serves every picker swapped in later.
(function () {
  "use strict";
  if (window.tlWaTemplates) return;
  window.tlWaTemplates = true;
  var VARIABLE = /\{\{\s*([0-9]{1,3}|[a-z_][a-z0-9_]{0,63})\s*\}\}/g;

  function update() {
    var preview = document.getElementById("wa-template-preview");
    var picker = document.getElementById("wa-template-picker");
    if (!preview || !picker) return;
    var values = {};
    picker.querySelectorAll("[data-wa-var]").forEach(function (input) {
      values[input.dataset.waVar] = input.value.trim();
    });
    preview.textContent = (preview.dataset.body || "").replace(VARIABLE, function (all, name) {
      return values[name] ? values[name] : all;
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target && event.target.matches && event.target.matches("[data-wa-var]")) update();
  });
  document.addEventListener("htmx:afterSwap", update);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
})();
