// The approval queue (supervisor view and /approvals): refreshed when an `approval.changed`
// event arrives on the workspace's stream. Its own EventSource, so desktop.js stays as it is.
(function () {
  "use strict";
  var timer = null;
  function refresh(queue) {
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      var items = document.getElementById("approval-queue-items");
      var editing = items && items.contains(document.activeElement);
      if (!items || editing || !window.htmx) return;  // never replace what a reviewer types
      var url = queue.dataset.full ? "/approvals" : "/approvals/panel";
      htmx.ajax("GET", url, { target: "#approval-queue-items", swap: "outerHTML",
                              select: "#approval-queue-items" });
    }, 150);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var queue = document.getElementById("approval-queue");
    if (!queue || !window.EventSource) return;
    var source = new EventSource("/desktop/stream");
    source.addEventListener("approval.changed", function () { refresh(queue); });
    source.addEventListener("ready", function () { queue.dataset.live = "ready"; });
  });
})();
