// yaffw web UI behaviour that htmx does not cover: image fallbacks, played/favorite toggles,
// and live notifications (toasts, scan progress bars) from the SSE stream /api/notifications.
(function () {
  "use strict";

  // An image that fails to load is removed, uncovering the placeholder drawn beneath it.
  // (Capture phase: error events do not bubble.)
  document.addEventListener("error", function (event) {
    var el = event.target;
    if (el instanceof HTMLImageElement && el.hasAttribute("data-poster")) el.remove();
  }, true);

  // <form data-confirm="Really?"> asks before submitting (deleting a user, for instance).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") &&
        !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Behaviour that would otherwise be inline handlers (the pages' CSP allows no inline script).
  // <select data-auto-submit> submits its form when changed (the library's sort order).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-auto-submit") && el.form) el.form.requestSubmit();
  });
  // <button data-session-stop hx-delete=...>: once the stop request is done, refresh the session rows.
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = event.detail.elt;
    if (el && el.hasAttribute && el.hasAttribute("data-session-stop")) htmx.trigger(document.body, "sessionStopped");
  });

  // ---- toggles: <button data-toggle="played" hx-put=... hx-vals='{"played": true}'> ----------
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = event.detail.elt;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-toggle")) return;
    var field = el.getAttribute("data-toggle");
    if (!event.detail.successful) {
      toast({ title: "Could not save", body: "Please try again.", tone: "error" });
      return;
    }
    var state;
    try { state = JSON.parse(event.detail.xhr.responseText); } catch (e) { return; }
    if (state && state.user_data) state = state.user_data;
    if (!state || typeof state[field] !== "boolean") return;
    var on = state[field];
    el.setAttribute("aria-pressed", on ? "true" : "false");
    var next = {}; next[field] = !on;
    el.setAttribute("hx-vals", JSON.stringify(next));
    var label = el.querySelector("[data-label]");
    if (label) label.textContent = el.getAttribute(on ? "data-on" : "data-off");
  });

  // ---- toasts -----------------------------------------------------------------------------
  var TONES = {
    info: "border-white/10",
    success: "border-emerald-400/40",
    error: "border-red-400/50",
  };

  function toast(opts) {
    var area = document.getElementById("toasts");
    if (!area) return null;
    var el = opts.key ? area.querySelector('[data-toast-key="' + CSS.escape(opts.key) + '"]') : null;
    if (!el) {
      el = document.createElement("div");
      el.className = "toast pointer-events-auto rounded-xl border bg-ink-850/95 p-4 shadow-2xl shadow-black/50 " +
        "backdrop-blur transition duration-300 " + (TONES[opts.tone || "info"] || TONES.info);
      el.setAttribute("role", "status");
      if (opts.key) el.setAttribute("data-toast-key", opts.key);
      el.innerHTML = '<div class="flex items-start gap-3"><div class="min-w-0 flex-1">' +
        '<p class="toast-title text-sm font-semibold text-zinc-100"></p>' +
        '<p class="toast-body mt-0.5 text-sm text-zinc-400"></p>' +
        '<div class="toast-bar mt-2 hidden h-1.5 overflow-hidden rounded-full bg-white/10">' +
        '<div class="h-full rounded-full bg-accent-400 transition-all duration-300" style="width:0%"></div></div>' +
        '</div><button type="button" class="toast-close -m-1 rounded p-1 text-zinc-500 hover:text-zinc-200" ' +
        'aria-label="Dismiss">&times;</button></div>';
      el.querySelector(".toast-close").addEventListener("click", function () { el.remove(); });
      area.appendChild(el);
    }
    el.querySelector(".toast-title").textContent = opts.title || "";
    el.querySelector(".toast-body").textContent = opts.body || "";
    var bar = el.querySelector(".toast-bar");
    if (typeof opts.percent === "number") {
      bar.classList.remove("hidden");
      bar.firstChild.style.width = opts.percent + "%";
    } else {
      bar.classList.add("hidden");
    }
    clearTimeout(el._timer);
    if (!opts.sticky) el._timer = setTimeout(function () { el.remove(); }, opts.timeout || 6000);
    return el;
  }
  window.yaffwToast = toast;

  // ---- scan progress bars: <div data-scan-library="<id>"> on the libraries page -------------
  function pct(done, total) {
    if (!total || total <= 0) return 0;
    return Math.max(0, Math.min(100, Math.round((100 * done) / total)));
  }

  function libraryName(id) {
    var el = document.querySelector('[data-library-name][data-library-id="' + CSS.escape(id) + '"]');
    return el ? el.getAttribute("data-library-name") : "library";
  }

  function showProgress(data) {
    var id = data.library_id;
    var p = pct(data.done, data.total);
    var phase = data.phase ? String(data.phase) : "scanning";
    var detail = data.total ? data.done + " of " + data.total : phase;
    document.querySelectorAll('[data-scan-library="' + CSS.escape(id) + '"]').forEach(function (box) {
      box.hidden = false;
      var bar = box.querySelector("[data-scan-bar]");
      if (bar) {
        bar.style.width = p + "%";
        bar.parentElement.setAttribute("aria-valuenow", String(p));
      }
      var text = box.querySelector("[data-scan-text]");
      if (text) text.textContent = phase.charAt(0).toUpperCase() + phase.slice(1) + " · " + detail + " (" + p + "%)";
    });
    toast({ key: "scan-" + id, title: "Scanning " + libraryName(id), body: detail, percent: p, sticky: true });
  }

  function showCompleted(data) {
    var id = data.library_id;
    document.querySelectorAll('[data-scan-library="' + CSS.escape(id) + '"]').forEach(function (box) {
      var bar = box.querySelector("[data-scan-bar]");
      if (bar) {
        bar.style.width = "100%";
        bar.parentElement.setAttribute("aria-valuenow", "100");
      }
      var text = box.querySelector("[data-scan-text]");
      if (text) text.textContent = "Scan complete";
      box.setAttribute("data-scan-done", "true");
    });
    var parts = [];
    ["added", "updated", "removed", "failed"].forEach(function (k) {
      if (typeof data[k] === "number" && data[k] > 0) parts.push(data[k] + " " + k);
    });
    toast({ key: "scan-" + id, title: "Finished scanning " + libraryName(id),
            body: parts.length ? parts.join(", ") : "Everything is up to date.", tone: "success" });
  }

  // "Scan now": the API answers 202; the bar appears at once and moves with the progress events.
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = event.detail.elt;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-scan-button")) return;
    var id = el.getAttribute("data-scan-button");
    if (!event.detail.successful) {
      var message = "The scan could not be started.";
      try { message = JSON.parse(event.detail.xhr.responseText).error.message || message; } catch (e) { /* keep */ }
      toast({ title: "Scan failed to start", body: message, tone: "error" });
      return;
    }
    document.querySelectorAll('[data-scan-library="' + CSS.escape(id) + '"]').forEach(function (box) {
      box.hidden = false;
      box.removeAttribute("data-scan-done");
      var text = box.querySelector("[data-scan-text]");
      if (text) text.textContent = "Scan requested, waiting for the scanner…";
    });
    toast({ key: "scan-" + id, title: "Scanning " + libraryName(id), body: "Starting…", percent: 0, sticky: true });
  });

  var HANDLERS = {
    "io.yaffw.library.scan.progress": showProgress,
    "io.yaffw.library.scan.completed": showCompleted,
    "io.yaffw.media.item.added": function (d) {
      toast({ title: "New in your library", body: d.name || "A new item was added." });
    },
    "io.yaffw.playback.started": function (d) {
      toast({ title: (d.user_name || "Someone") + " started watching", body: d.item_name || "" });
    },
    "io.yaffw.playback.stopped": function (d) {
      toast({ title: (d.user_name || "Someone") + " stopped watching", body: d.item_name || "" });
    },
  };

  function dispatch(event) {
    var msg;
    try { msg = JSON.parse(event.data); } catch (e) { return; }
    // Either the notify message ({type, data, ...}) or a named SSE event carrying only its data.
    var type = (msg && msg.type) || event.type;
    var data = msg && msg.data && msg.type ? msg.data : msg;
    var handle = HANDLERS[type];
    if (handle && data) handle(data);
    document.dispatchEvent(new CustomEvent("yaffw:notification", { detail: { type: type, data: data } }));
  }

  function connect() {
    var url = document.body.getAttribute("data-notifications");
    if (!url || !window.EventSource) return;
    var source = new EventSource(url);
    source.addEventListener("message", dispatch);
    Object.keys(HANDLERS).forEach(function (type) { source.addEventListener(type, dispatch); });
    source.addEventListener("open", function () { document.body.setAttribute("data-sse", "open"); });
    // The server's first event, once this replica's subscription is live (tests wait for it).
    source.addEventListener("ready", function () { document.body.setAttribute("data-sse", "ready"); });
    source.addEventListener("error", function () { document.body.setAttribute("data-sse", "reconnecting"); });
    window.yaffwNotifications = source;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
})();
