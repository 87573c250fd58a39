/* Threadline web chat widget. Plain JavaScript, no dependencies, served by Threadline.
 *
 * Embed:  <script src="https://threadline.example/webchat/widget.js" data-account="ACCOUNT_ID"
 *                 async></script>
 * Optional attributes: data-title, data-identifier + data-identifier-hash (identity
 * verification, computed by the host site's server), data-mode="page" (full page).
 * Text is always rendered with textContent: what a visitor or agent types is never markup.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-account")) { return; }
  var account = script.getAttribute("data-account");
  var base = new URL(script.src, window.location.href).origin;
  var mode = script.getAttribute("data-mode") === "page" ? "page" : "bubble";
  var title = script.getAttribute("data-title") || "Chat with us";
  var identifier = script.getAttribute("data-identifier") || "";
  var identifierHash = script.getAttribute("data-identifier-hash") || "";
  var link = mode === "page" ? readLink() : (script.getAttribute("data-link") || "");
  var storeKey = "threadline.webchat." + account;
  var memory = {};
  var state = { token: null, lastId: null, stream: null, retry: 1000, open: mode === "page" };
  var byId = {};
  var byEcho = {};
  var readSent = {};
  var ui = build();

  function readLink() {
    var hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var query = new URLSearchParams(window.location.search);
    return hash.get("link") || query.get("link") || "";
  }

  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "null"); }
    catch (e) { return memory[storeKey] || null; }
  }

  function save(value) {
    memory[storeKey] = value;
    try {
      if (value) { window.localStorage.setItem(storeKey, JSON.stringify(value)); }
      else { window.localStorage.removeItem(storeKey); }
    } catch (e) { /* storage blocked: keep it in memory */ }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  function field(form, label, name, type, attrs) {
    var wrap = el("label", "tl-field");
    wrap.appendChild(el("span", "tl-label", label));
    var input = el(type === "textarea" ? "textarea" : "input", "tl-input");
    if (type !== "textarea") { input.type = type; }
    input.name = name;
    Object.keys(attrs || {}).forEach(function (k) { input.setAttribute(k, attrs[k]); });
    wrap.appendChild(input);
    form.appendChild(wrap);
    return input;
  }

  function build() {
    var host;
    if (mode === "page") {
      host = document.getElementById(script.getAttribute("data-target") || "") ||
        document.body.appendChild(el("div"));
    } else {
      host = document.body.appendChild(el("div"));
      host.setAttribute("data-threadline-chat", account);
    }
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = base + "/webchat/widget.css";
    root.appendChild(css);
    var box = el("div", "tl-root tl-" + mode);
    root.appendChild(box);
    var launcher = null;
    if (mode === "bubble") {
      launcher = el("button", "tl-launcher", "Chat");
      launcher.type = "button";
      launcher.setAttribute("aria-label", "Open chat: " + title);
      box.appendChild(launcher);
    }
    var panel = el("section", "tl-panel");
    panel.setAttribute("aria-label", title);
    panel.hidden = mode !== "page";
    box.appendChild(panel);
    var header = el("header", "tl-header");
    header.appendChild(el("span", "tl-title", title));
    var close = null;
    if (mode === "bubble") {
      close = el("button", "tl-close", "×");
      close.type = "button";
      close.setAttribute("aria-label", "Close chat");
      header.appendChild(close);
    }
    panel.appendChild(header);

    var entry = el("form", "tl-entry");
    entry.setAttribute("aria-label", "Start a chat");
    entry.appendChild(el("p", "tl-intro", link
      ? "We have your earlier message. Leave your details and we'll continue here."
      : "Leave your details and your question; an agent will answer here."));
    var name = field(entry, "Name", "name", "text", { maxlength: "200", autocomplete: "name" });
    var email = field(entry, "Email", "email", "email",
      { maxlength: "320", autocomplete: "email" });
    var question = field(entry, link ? "Anything to add? (optional)" : "Your question",
      "question", "textarea", { maxlength: "4000", rows: "3" });
    if (!link) { question.required = true; }
    var start = el("button", "tl-button", "Start chat");
    start.type = "submit";
    entry.appendChild(start);
    var entryError = el("p", "tl-error");
    entryError.setAttribute("role", "alert");
    entry.appendChild(entryError);
    panel.appendChild(entry);

    var chat = el("div", "tl-chat");
    chat.hidden = true;
    var log = el("ol", "tl-log");
    log.setAttribute("aria-live", "polite");
    chat.appendChild(log);
    var compose = el("form", "tl-compose");
    var text = el("textarea", "tl-input tl-text");
    text.name = "text";
    text.rows = 2;
    text.maxLength = 4000;
    text.setAttribute("aria-label", "Message");
    text.placeholder = "Write a message…";
    compose.appendChild(text);
    var send = el("button", "tl-button", "Send");
    send.type = "submit";
    compose.appendChild(send);
    chat.appendChild(compose);
    var chatError = el("p", "tl-error");
    chatError.setAttribute("role", "alert");
    chat.appendChild(chatError);
    panel.appendChild(chat);
    return { panel: panel, launcher: launcher, close: close, entry: entry, name: name,
      email: email, question: question, entryError: entryError, chat: chat, log: log,
      compose: compose, text: text, chatError: chatError, start: start };
  }

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function pageUrl() {
    return mode === "page" ? null : window.location.origin + window.location.pathname;
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body) { headers["Content-Type"] = "application/json"; }
    if (state.token) { headers["X-Visitor-Token"] = state.token; }
    return fetch(base + "/webchat/" + account + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      cache: "no-store", credentials: "omit"
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) {
          var err = (data && data.error) || {};
          throw { status: resp.status, code: err.code || "error",
            message: err.message || "Something went wrong." };
        }
        return data;
      });
    });
  }

  function setOpen(open) {
    state.open = open;
    ui.panel.hidden = !open;
    if (ui.launcher) { ui.launcher.hidden = open; }
    if (open) { markRead(); }
  }

  function showChat() {
    ui.entry.hidden = true;
    ui.chat.hidden = false;
  }

  function showEntry(message) {
    ui.entry.hidden = false;
    ui.chat.hidden = true;
    ui.entryError.textContent = message || "";
  }

  function render(item) {
    var key = item.id || ("echo-" + item.echo_id);
    var node = byId[key] || (item.echo_id && byEcho[item.echo_id]);
    if (!node) {
      node = el("li");
      node.appendChild(el("span", "tl-meta"));
      node.appendChild(el("span", "tl-body"));
      ui.log.appendChild(node);
    }
    node.className = "tl-message tl-" + (item.type === "context" ? "context" : item.sender);
    if (item.type === "context") {
      node.querySelector(".tl-meta").textContent = "Your public message";
    } else {
      node.querySelector(".tl-meta").textContent = item.sender === "agent" ? title : "You";
    }
    node.querySelector(".tl-body").textContent = item.text;
    node.setAttribute("data-delivery", item.delivery || "");
    renderSurvey(node, item.survey);
    renderBot(node, item.bot);
    if (item.id) { byId[item.id] = node; node.setAttribute("data-id", item.id); }
    if (item.echo_id) { byEcho[item.echo_id] = node; }
    node.scrollIntoView && node.scrollIntoView({ block: "end" });
    if (item.sender === "agent" && item.id && item.delivery !== "read") { markRead(); }
  }

  /* The self-service bot's answer (docs/self-service.md#web-chat): the article's link, "Yes,
     thanks" and "Talk to a person" under it, and "Talk to a person" kept visible above the
     message box from then on. A button sends its words as the visitor's message. */
  function say(words) {
    ui.text.value = words;
    ui.compose.requestSubmit ? ui.compose.requestSubmit() : ui.compose.submit();
  }

  function renderBot(node, bot) {
    var box = node.querySelector(".tl-bot");
    if (!bot) { if (box) { box.remove(); } return; }
    node.classList.add("tl-automated");
    node.querySelector(".tl-meta").textContent = title + " · automated answer";
    if (!ui.person) {
      ui.person = el("button", "tl-person", "Talk to a person");
      ui.person.type = "button";
      ui.person.addEventListener("click", function () { say("Talk to a person"); });
      ui.chat.insertBefore(ui.person, ui.compose);
    }
    if (box || bot.closed) { return; }
    box = el("div", "tl-bot");
    if (bot.title && typeof bot.url === "string" && /^https?:\/\//.test(bot.url)) {
      var link = el("a", "tl-article", "Read the article: " + bot.title);
      link.href = bot.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      box.appendChild(link);
    }
    var row = el("div", "tl-choices");
    (bot.choices || []).forEach(function (words) {
      var button = el("button", "tl-choice", String(words));
      button.type = "button";
      button.addEventListener("click", function () { say(String(words)); });
      row.appendChild(button);
    });
    box.appendChild(row);
    node.appendChild(box);
  }

  /* A CSAT survey: choose 1-5, add a comment if you like, send (docs/csat.md#web-chat). */
  function renderSurvey(node, survey) {
    var box = node.querySelector(".tl-survey");
    if (!survey) { if (box) { box.remove(); } return; }
    var state = survey.answered ? "answered" : "open";
    if (box && box.getAttribute("data-state") === state) { return; }
    if (!box) { box = el("div", "tl-survey"); node.appendChild(box); }
    box.textContent = "";
    box.setAttribute("data-state", state);
    box.setAttribute("data-survey", survey.id);
    if (survey.answered) {
      box.appendChild(el("p", "tl-survey-done",
        "Thank you! You rated us " + survey.score + " out of 5."));
      return;
    }
    var form = el("form", "tl-survey-form");
    form.setAttribute("aria-label", "Rate our help");
    var scale = el("div", "tl-scale");
    scale.setAttribute("role", "group");
    scale.setAttribute("aria-label", "Score from 1 (very poor) to 5 (excellent)");
    var chosen = 0;
    var comment = el("textarea", "tl-input tl-survey-comment");
    comment.rows = 2;
    comment.maxLength = 1000;
    comment.placeholder = "Anything to add? (optional)";
    comment.setAttribute("aria-label", "Comment");
    var send = el("button", "tl-button", "Send rating");
    send.type = "submit";
    send.disabled = true;
    var error = el("p", "tl-error");
    error.setAttribute("role", "alert");
    survey.scale.forEach(function (n) {
      var button = el("button", "tl-score", String(n));
      button.type = "button";
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label", n + " out of 5");
      button.addEventListener("click", function () {
        chosen = n;
        Array.prototype.forEach.call(scale.children, function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
        send.disabled = false;
      });
      scale.appendChild(button);
    });
    var ends = el("div", "tl-scale-ends");
    ends.appendChild(el("span", "", "Very poor"));
    ends.appendChild(el("span", "", "Excellent"));
    form.appendChild(scale);
    form.appendChild(ends);
    form.appendChild(comment);
    form.appendChild(send);
    form.appendChild(error);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!chosen) { return; }
      send.disabled = true;
      error.textContent = "";
      api("POST", "/surveys/" + survey.id, { score: chosen,
        comment: comment.value.trim() || null }).then(function (data) {
        renderSurvey(node, { id: survey.id, answered: true, score: data.score });
      }).catch(function (err) {
        error.textContent = err.message || "Could not send the rating.";
        send.disabled = err.status === 409 || err.status === 410;
      });
    });
    box.appendChild(form);
  }

  function markRead() {
    if (!state.open || document.visibilityState === "hidden") { return; }
    Object.keys(byId).forEach(function (id) {
      var node = byId[id];
      if (readSent[id] || !/tl-agent/.test(node.className) ||
          node.getAttribute("data-delivery") === "read") { return; }
      readSent[id] = true;
      api("POST", "/read", { message_id: id }).catch(function () { readSent[id] = false; });
    });
  }

  function reset(message) {
    save(null);
    state.token = null;
    if (state.stream) { state.stream.abort(); state.stream = null; }
    showEntry(message);
  }

  function history() {
    return api("GET", "/history").then(function (data) {
      data.items.forEach(render);
      state.lastId = data.cursor;
      connect();
    });
  }

  function dispatch(block) {
    var event = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") { return; }
      var i = line.indexOf(":");
      var fieldName = i < 0 ? line : line.slice(0, i);
      var value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (fieldName === "id") { state.lastId = value; }
      else if (fieldName === "event") { event = value; }
      else if (fieldName === "data") { data.push(value); }
    });
    if (!data.length) { return; }
    var payload = JSON.parse(data.join("\n"));
    if (event === "message") { render(payload); }
    else if (event === "message.deleted" && byId[payload.id]) {
      byId[payload.id].remove();
      delete byId[payload.id];
    }
  }

  function connect() {
    if (state.stream) { state.stream.abort(); }
    var ctl = new AbortController();
    state.stream = ctl;
    var headers = { "Accept": "text/event-stream", "X-Visitor-Token": state.token };
    if (state.lastId) { headers["Last-Event-ID"] = state.lastId; }
    fetch(base + "/webchat/" + account + "/stream", {
      headers: headers, signal: ctl.signal, cache: "no-store", credentials: "omit"
    }).then(function (resp) {
      if (resp.status === 401) { reset("Your chat session has ended; please start again."); return; }
      if (!resp.ok || !resp.body) { throw new Error("stream answered " + resp.status); }
      state.retry = 1000;
      var reader = resp.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { throw new Error("stream closed"); }
          buffer = (buffer + decoder.decode(chunk.value, { stream: true })).replace(/\r\n?/g, "\n");
          var at = buffer.indexOf("\n\n");
          while (at >= 0) {
            dispatch(buffer.slice(0, at));
            buffer = buffer.slice(at + 2);
            at = buffer.indexOf("\n\n");
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      if (ctl.signal.aborted || state.stream !== ctl) { return; }
      setTimeout(function () { if (state.stream === ctl) { connect(); } }, state.retry);
      state.retry = Math.min(state.retry * 2, 30000);
    });
  }

  function begin(form) {
    var body = { name: form.name || null, email: form.email || null,
      question: form.question || null, echo_id: form.question ? newId() : null,
      link_token: link || null, page_url: pageUrl() };
    if (identifier && identifierHash) {
      body.identifier = identifier;
      body.identifier_hash = identifierHash;
    }
    return api("POST", "/session", body).then(function (data) {
      state.token = data.token;
      save({ token: data.token, identifier: identifier, link: link });
      if (body.question) {
        render({ echo_id: body.echo_id, sender: "visitor", text: body.question,
          delivery: "sent" });
      }
      showChat();
      return history();
    });
  }

  ui.entry.addEventListener("submit", function (event) {
    event.preventDefault();
    ui.start.disabled = true;
    ui.entryError.textContent = "";
    begin({ name: ui.name.value.trim(), email: ui.email.value.trim(),
      question: ui.question.value.trim() }).catch(function (err) {
      ui.entryError.textContent = err.message || "Could not start the chat.";
    }).then(function () { ui.start.disabled = false; });
  });

  ui.compose.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = ui.text.value.trim();
    if (!text) { return; }
    var echo = newId();
    render({ echo_id: echo, sender: "visitor", text: text, delivery: "sending" });
    ui.text.value = "";
    ui.chatError.textContent = "";
    api("POST", "/messages", { text: text, echo_id: echo, page_url: pageUrl() })
      .then(function () {
        var node = byEcho[echo];
        if (node && node.getAttribute("data-delivery") === "sending") {
          node.setAttribute("data-delivery", "sent");
        }
      }).catch(function (err) {
        if (byEcho[echo]) { byEcho[echo].setAttribute("data-delivery", "failed"); }
        if (err.status === 401) { reset("Your chat session has ended; please start again."); }
        else { ui.chatError.textContent = err.message || "Could not send the message."; }
      });
  });

  ui.text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      ui.compose.requestSubmit ? ui.compose.requestSubmit() : ui.compose.submit();
    }
  });

  if (ui.launcher) { ui.launcher.addEventListener("click", function () { setOpen(true); }); }
  if (ui.close) { ui.close.addEventListener("click", function () { setOpen(false); }); }
  document.addEventListener("visibilitychange", markRead);

  var saved = load();
  if (saved && saved.token && saved.identifier === identifier && (!link || saved.link === link)) {
    state.token = saved.token;
    showChat();
    history().catch(function (err) {
      if (err && err.status === 401) { reset("Your chat session has ended; please start again."); }
      else { ui.chatError.textContent = "Could not load the conversation."; }
    });
  } else {
    if (saved && saved.token) { state.token = saved.token; } /* keeps the same visitor */
    showEntry("");
  }
  helpPanel();
  setOpen(state.open);

  /* The Help panel (docs/knowledge-base.md#in-the-web-chat): the workspace's published
     articles, most read first or matching what the visitor types; each opens its help-centre
     page in a new tab. Text only (textContent); only http(s) links are followed. */
  function helpPanel() {
    var header = ui.panel.querySelector(".tl-header");
    if (!header || !window.fetch) { return; }
    var language = script.getAttribute("data-language") || "";
    var toggle = el("button", "tl-help-toggle", "Help");
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", "false");
    header.insertBefore(toggle, ui.close || null);
    var help = el("div", "tl-help");
    help.hidden = true;
    var search = el("form", "tl-help-search");
    search.setAttribute("role", "search");
    var input = el("input", "tl-input");
    input.type = "search";
    input.maxLength = 200;
    input.placeholder = "Search help articles";
    input.setAttribute("aria-label", "Search help articles");
    search.appendChild(input);
    help.appendChild(search);
    var list = el("ul", "tl-help-list");
    list.setAttribute("aria-live", "polite");
    help.appendChild(list);
    var all = el("a", "tl-help-all", "Open the help centre");
    all.target = "_blank";
    all.rel = "noopener noreferrer";
    all.hidden = true;
    help.appendChild(all);
    header.parentNode.insertBefore(help, header.nextSibling);
    var timer = null;
    var asked = 0;

    function safe(url) { return typeof url === "string" && /^https?:\/\//.test(url); }

    function note(words) { list.textContent = ""; list.appendChild(el("li", "tl-help-note", words)); }

    function show(q) {
      var mine = ++asked;
      var query = "?q=" + encodeURIComponent(q) + "&language=" + encodeURIComponent(language);
      fetch(base + "/help/widget/" + account + "/articles" + query,
        { credentials: "omit", cache: "no-store", headers: { "Accept": "application/json" } })
        .then(function (resp) { return resp.json(); })
        .then(function (data) {
          if (mine !== asked) { return; }
          list.textContent = "";
          (data.articles || []).forEach(function (a) {
            var item = el("li", "tl-help-item");
            var open = el("a", "tl-help-link", String(a.title || ""));
            if (safe(a.url)) { open.href = a.url; }
            open.target = "_blank";
            open.rel = "noopener noreferrer";
            item.appendChild(open);
            if (a.excerpt) { item.appendChild(el("p", "tl-help-excerpt", String(a.excerpt))); }
            list.appendChild(item);
          });
          if (!list.children.length) {
            note(data.error ? String(data.error.message || "") : q ? "No article matches."
              : "No articles yet.");
          }
          if (safe(data.help_url)) { all.href = data.help_url; all.hidden = false; }
        }).catch(function () { if (mine === asked) { note("Help articles are unavailable."); } });
    }

    toggle.addEventListener("click", function () {
      var opening = help.hidden;
      help.hidden = !opening;
      toggle.setAttribute("aria-expanded", opening ? "true" : "false");
      if (opening) { show(input.value.trim()); input.focus(); }
    });
    search.addEventListener("submit", function (event) {
      event.preventDefault();
      show(input.value.trim());
    });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { show(input.value.trim()); }, 300);
    });
  }
})();
