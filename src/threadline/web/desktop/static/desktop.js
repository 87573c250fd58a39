/* Threadline agent desktop: live updates (SSE), keyboard shortcuts, composer helpers. */
(function () {
  "use strict";

  function configureHtmx() {
    if (!window.htmx) return;
    // Typed errors come back as HTML fragments: show 4xx answers, never swap 5xx.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(401|403|409|422|429)", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }

  // --- live updates -------------------------------------------------------------------------
  var listTimer = null;
  function selectedId() {
    var conv = document.getElementById("conversation");
    return conv ? conv.dataset.conversationId : "";
  }
  function refreshList() {
    var list = document.getElementById("inbox-list");
    if (!list || !window.htmx) return;
    var src = list.dataset.src + (list.dataset.src.indexOf("?") >= 0 ? "&" : "?") +
      "selected=" + encodeURIComponent(selectedId());
    var before = new Set(Array.from(list.querySelectorAll(".inbox-row")).map(function (r) { return r.dataset.id; }));
    htmx.ajax("GET", src, { target: "#inbox-list", swap: "outerHTML" }).then(function () {
      document.querySelectorAll("#inbox-list .inbox-row").forEach(function (row) {
        if (!before.has(row.dataset.id)) row.classList.add("fresh");
      });
    });
  }
  function scheduleList() {
    if (listTimer) return;
    listTimer = setTimeout(function () { listTimer = null; refreshList(); }, 120);
  }
  var timelineTimer = null;
  function refreshTimeline(id) {
    if (timelineTimer) return;
    timelineTimer = setTimeout(function () {
      timelineTimer = null;
      var tl = document.getElementById("timeline");
      if (!tl || tl.dataset.conversationId !== id || !window.htmx) return;
      var picked = tl.querySelectorAll("input[name=message_ids]:checked").length;
      if (picked) return; // do not drop a split selection in progress
      htmx.ajax("GET", "/conversations/" + id + "/timeline", { target: "#timeline", swap: "outerHTML" })
        .then(scrollTimeline);
    }, 120);
  }
  function scrollTimeline() {
    var tl = document.getElementById("timeline");
    if (tl) tl.scrollTop = tl.scrollHeight;
  }
  // The registry of real-time events by what the desktop does with them (events/names.py,
  // rendered into every page by base.html as the body's data-live-events).
  function registry() {
    try { return JSON.parse(document.body.dataset.liveEvents || "{}"); } catch (e) { return {}; }
  }
  function connect() {
    if (!document.querySelector(".rail")) return;
    var source = new EventSource("/desktop/stream");
    var live = registry();
    // Every event: a `tl:<name>` event on the body, which a page's panels reload on
    // (hx-trigger="tl:<name> from:body").
    Object.keys(live).forEach(function (group) {
      live[group].forEach(function (name) {
        source.addEventListener(name, function (event) {
          var data = {};
          try { data = JSON.parse(event.data); } catch (e) { /* not JSON: refresh anyway */ }
          document.body.dispatchEvent(new CustomEvent("tl:" + name, { detail: data }));
          if (group !== "refresh") return;
          scheduleList();
          if (data.conversation_id && data.conversation_id === selectedId()) refreshTimeline(data.conversation_id);
        });
      });
    });
    source.addEventListener("call.incoming", function (event) {
      var data = {};
      try { data = JSON.parse(event.data); } catch (e) { return; }
      callNotice(data.conversation_id);
    });
    source.addEventListener("webhook.disabled", function () {
      notice("alert-error webhook-notice", "An outbound webhook was disabled after repeated failures",
             "", "", 30000);
    });
    source.addEventListener("ready", function () { document.body.dataset.live = "1"; });
  }
  // A notice in the page's flash area with a link to a conversation, gone after `ttl` ms;
  // shared with sla.js (window.threadlineNotice).
  function notice(className, text, conversationId, linkText, ttl) {
    var area = document.getElementById("flash");
    if (!area) return;
    var box = document.createElement("div");
    box.className = "alert " + className;
    box.setAttribute("role", "alert");
    box.dataset.conversationId = conversationId || "";
    var strong = document.createElement("strong");
    strong.textContent = text;
    box.appendChild(strong);
    if (conversationId) {
      var link = document.createElement("a");
      link.href = "/conversations/" + encodeURIComponent(conversationId);
      link.className = "btn btn-sm";
      link.textContent = linkText;
      box.appendChild(document.createTextNode(" "));
      box.appendChild(link);
    }
    area.appendChild(box);
    setTimeout(function () { box.remove(); }, ttl);
  }
  window.threadlineNotice = notice;
  // A customer calls: a notice with a link to the call's conversation, where the caller's
  // recent public posts are shown beside the call (partials/conversation.html).
  function callNotice(conversationId) {
    if (conversationId) notice("call-notice", "Incoming call", conversationId,
                               "Open with the caller's social history", 60000);
  }

  // --- keyboard shortcuts ----------------------------------------------------------------------
  function rows() { return Array.from(document.querySelectorAll("#inbox-list .inbox-row")); }
  function move(step) {
    var all = rows();
    var current = selectedId();
    var index = all.findIndex(function (r) { return r.dataset.id === current; });
    var next = all[index < 0 ? 0 : index + step];
    if (!next) {
      var conv = document.getElementById("conversation");
      if (conv && (index >= 0 || !all.length)) {
        var query = conv.dataset.query ? conv.dataset.query + "&" : "";
        window.location.href = "/conversations/" + conv.dataset.conversationId + "/next?" + query + "step=" + step;
      }
      return;
    }
    next.click();
    next.scrollIntoView({ block: "nearest" });
  }
  function compose(kind) {
    var radio = document.querySelector('#composer input[name=kind][value="' + kind + '"]');
    if (radio && !radio.checked) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    var composer = document.getElementById("composer");
    if (composer) composer.classList.toggle("kind-note", kind === "note");
    var text = document.getElementById("composer-text");
    if (text) text.focus();
  }
  function click(id) { var el = document.getElementById(id); if (el && !el.disabled) el.click(); }
  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
  }
  function onKey(event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.id === "composer-text") {
      event.preventDefault();
      click("send-button");
      return;
    }
    if (event.key === "Escape") { if (typing(event.target)) event.target.blur(); return; }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    var actions = {
      j: function () { move(1); }, k: function () { move(-1); },
      r: function () { compose("message"); }, n: function () { compose("note"); },
      e: function () { click("resolve-toggle"); }, a: function () { click("assign-me"); },
      "?": function () { var help = document.getElementById("help"); if (help) help.showModal(); },
    };
    if (actions[event.key]) { event.preventDefault(); actions[event.key](); }
  }

  // --- composer helpers -------------------------------------------------------------------------
  function updateCount() {
    var text = document.getElementById("composer-text");
    var out = document.getElementById("char-count");
    var hint = document.getElementById("composer-hint");
    if (!text || !out) return;
    var limit = hint && hint.dataset.charLimit ? parseInt(hint.dataset.charLimit, 10) : 0;
    var n = Array.from(text.value).length;
    out.textContent = limit ? n + " / " + limit : (n ? n + " characters" : "");
    out.classList.toggle("over", !!limit && n > limit);
  }
  function insertTemplate(select) {
    if (!select.value) return;
    fetch(select.dataset.url + select.value, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (body) {
        var text = document.getElementById("composer-text");
        var start = text.selectionStart, end = text.selectionEnd;
        text.value = text.value.slice(0, start) + body + text.value.slice(end);
        text.focus();
        text.selectionStart = text.selectionEnd = start + body.length;
        updateCount();
      })
      .finally(function () { select.value = ""; });
  }

  // --- markup behaviour (the Content-Security-Policy allows no inline handler or style) ---------
  function drawBars(root) {
    (root || document).querySelectorAll("[data-percent]").forEach(function (bar) {
      var value = Math.max(0, Math.min(100, parseFloat(bar.dataset.percent) || 0));
      bar.style.width = value + "%";
    });
  }

  // --- active handle time (docs/kpis.md) ---------------------------------------------------
  // While a conversation is open, the tab visible and focused and the agent not idle (an input
  // in the last minute), report the seconds since the last report: "typing" if he typed.
  var ACTIVITY_EVERY = 15000, IDLE_AFTER = 60000, lastInput = Date.now(), lastBeat = Date.now(), typed = false;
  function activityBeat() {
    var now = Date.now(), seconds = Math.min((now - lastBeat) / 1000, 60), id = selectedId(), kind = typed ? "typing" : "focus";
    lastBeat = now; typed = false;
    var csrf = document.body.dataset.csrf;
    if (!id || !csrf || document.visibilityState !== "visible" || !document.hasFocus() || now - lastInput > IDLE_AFTER || seconds < 1) return;
    fetch("/desktop/activity", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ conversation_id: id, kind: kind, seconds: seconds.toFixed(1) })
    }).catch(function () { /* offline for a moment: that time is not counted */ });
  }
  function activityStart() {
    ["mousemove", "mousedown", "keydown", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, function () { lastInput = Date.now(); }, { passive: true, capture: true });
    });
    document.addEventListener("input", function () { typed = true; lastInput = Date.now(); });
    document.addEventListener("visibilitychange", function () { lastBeat = Date.now(); });
    setInterval(activityBeat, ACTIVITY_EVERY);
  }

  document.addEventListener("DOMContentLoaded", function () {
    activityStart();
    drawBars();
    configureHtmx();
    connect();
    scrollTimeline();
    updateCount();
    document.addEventListener("keydown", onKey);
    document.addEventListener("input", function (e) { if (e.target.id === "composer-text") updateCount(); });
    document.addEventListener("change", function (e) {
      if (e.target.id === "template-picker") insertTemplate(e.target);
      if (e.target.dataset.action === "submit-on-pick" && e.target.value && window.htmx) {
        // a pane swapped in less than htmx's settle delay ago is not processed yet: without
        // this a quick pick fired a submit nobody listened to (process is idempotent)
        htmx.process(e.target.form);
        htmx.trigger(e.target.form, "submit");
      }
      if (e.target.name === "kind" && e.target.closest("#composer")) {
        document.getElementById("composer").classList.toggle("kind-note", e.target.value === "note");
      }
    });
    document.addEventListener("click", function (e) {
      var help = e.target.closest("[data-action=help]");
      if (help) document.getElementById("help").showModal();
      var dismiss = e.target.closest("[data-action=dismiss]");
      if (dismiss && dismiss.parentElement) dismiss.parentElement.remove();
    });
    document.body.addEventListener("htmx:afterSwap", function (e) {
      var target = e.detail.target;
      drawBars();
      if (target && (target.id === "conv-pane" || target.id === "timeline")) scrollTimeline();
      if (target && target.id === "conv-pane") {
        var id = selectedId();
        rows().forEach(function (r) { r.classList.toggle("selected", r.dataset.id === id); });
      }
      updateCount();
    });
    document.body.addEventListener("htmx:afterSettle", updateCount);
  });
})();
