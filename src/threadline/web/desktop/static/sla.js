/* Service levels, live: a notice when a conversation's service level is breached or about to
   be (the assignee and supervisors see it), and the supervisor page's "breaches and
   warnings" panel refreshed. Events come from the desktop stream (sla.warning, sla.breach). */
(function () {
  "use strict";
  var script = document.currentScript;
  var me = script ? script.dataset.agent : "";
  var supervisor = script && script.dataset.supervisor === "1";

  function label(target) { return String(target || "").replace(/_/g, " "); }
  function notice(kind, data) {  // the desktop's notices (desktop.js)
    if (!window.threadlineNotice) return;
    window.threadlineNotice((kind === "sla.breach" ? "alert-error " : "") + "sla-notice",
      (kind === "sla.breach" ? "Service level breached: " : "Service level at risk: ") +
      label(data.target) + (data.priority ? " (P" + data.priority + ")" : ""),
      data.conversation_id, "Open", 30000);
  }
  function refreshPanel() {
    var panel = document.getElementById("sla-panel");
    if (panel && window.htmx) htmx.ajax("GET", "/supervisor/sla-panel", { target: "#sla-panel", swap: "outerHTML" });
  }
  function connect() {
    if (!document.querySelector(".rail") || !window.EventSource) return;
    var source = new EventSource("/desktop/stream");
    ["sla.warning", "sla.breach"].forEach(function (name) {
      source.addEventListener(name, function (event) {
        var data = {};
        try { data = JSON.parse(event.data); } catch (e) { return; }
        if (supervisor || (me && data.assignee_id === me)) notice(name, data);
        refreshPanel();
      });
    });
    source.addEventListener("ready", function () { document.body.dataset.slaLive = "1"; });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
})();
