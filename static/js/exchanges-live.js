/*
 * Live updates of the exchanges (conversations) pages, by Server-Sent Events.
 *
 * The page works without this file: its "Actualiser" link reloads it. With it, an
 * element carrying `data-exchanges-stream="<url>"` opens an EventSource on that URL:
 *
 * - `event: message` (id = the message id): the message's HTML, rendered by the server
 *   from the same partial as the page; appended to the element named by `data-target`
 *   (a CSS selector) unless an element with the same id is already there;
 * - `event: update`: a message shown already, rendered again (its read receipts "Lu par …"
 *   changed, or its author edited or withdrew it); it replaces the element of the same id;
 * - `event: unread`: JSON {"conversations": {"<id>": n}, "total": n}; every element
 *   `[data-unread-for="<id>"]` shows its count (hidden at 0), `[data-unread-total]` the total.
 *
 * The server ends each stream after a few seconds (a bounded request, so no web worker is
 * held for long); the browser reconnects by itself and sends the last id it received
 * (Last-Event-ID), so nothing is missed or shown twice. When the server refuses
 * (the right was withdrawn, the session expired) the stream stops and the status line
 * asks to reload the page.
 *
 * Strict Content Security Policy: no inline script, no eval; HTML comes from our own
 * templates (escaped by Django) and is parsed with a <template> element.
 */
(function () {
  "use strict";

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  function say(status, text) {
    if (status) {
      status.textContent = text;
    }
  }

  function nearBottom() {
    var doc = document.documentElement;
    return window.innerHeight + window.scrollY >= doc.scrollHeight - 120;
  }

  function showUnread(data) {
    var counts = data.conversations || {};
    Object.keys(counts).forEach(function (id) {
      document.querySelectorAll('[data-unread-for="' + CSS.escape(id) + '"]').forEach(function (badge) {
        var n = counts[id];
        badge.hidden = n === 0;
        var label = badge.querySelector("[data-unread-count]") || badge;
        label.textContent = String(n);
      });
    });
    if (typeof data.total === "number") {
      document.querySelectorAll("[data-unread-total]").forEach(function (badge) {
        badge.hidden = data.total === 0;
        badge.textContent = String(data.total);
      });
    }
  }

  // A message posted with HTMX (the composer appends the answer) may already have come
  // by the stream, or come by it later: keep the first element of each id only.
  function dedupe(list) {
    var seen = {};
    list.querySelectorAll("[data-message-id]").forEach(function (item) {
      var id = item.getAttribute("data-message-id");
      if (seen[id]) {
        item.remove();
      } else {
        seen[id] = true;
      }
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var list = document.getElementById("conversation-messages");
    if (list && event.target && list.contains(event.target)) {
      dedupe(list);
    }
  });

  function start(root, url, target, status) {
    if (!url || typeof window.EventSource !== "function") {
      return;
    }
    var source = new EventSource(url);
    root.setAttribute("data-exchanges-state", "connecting");

    source.addEventListener("open", function () {
      root.setAttribute("data-exchanges-state", "open");
    });

    source.addEventListener("message", function (event) {
      if (!target) {
        return;
      }
      var fragment = parse(event.data);
      var first = fragment.firstElementChild;
      if (first && first.id && document.getElementById(first.id)) {
        // Already on the page (rendered after it was written, or the composer's answer).
        if (event.lastEventId) {
          target.setAttribute("data-last-message-id", event.lastEventId);
        }
        return;
      }
      var follow = nearBottom();
      var author = first ? first.getAttribute("data-author") : null;
      // "Aucun message pour l'instant." goes once the first one is there.
      target.querySelectorAll("[data-exchanges-empty]").forEach(function (empty) {
        empty.remove();
      });
      target.appendChild(fragment);
      if (event.lastEventId) {
        target.setAttribute("data-last-message-id", event.lastEventId);
      }
      say(status, author ? "Nouveau message de " + author + "." : "Nouveau message.");
      if (follow && first && typeof first.scrollIntoView === "function") {
        first.scrollIntoView({ block: "end" });
      }
    });

    source.addEventListener("update", function (event) {
      var fresh = parse(event.data).firstElementChild;
      var current = fresh && fresh.id ? document.getElementById(fresh.id) : null;
      if (current) {
        current.replaceWith(fresh);
      }
    });

    source.addEventListener("unread", function (event) {
      try {
        showUnread(JSON.parse(event.data));
      } catch (error) {
        // A malformed counter changes nothing; the next one will do.
      }
    });

    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (right withdrawn, session over) or a server without live updates.
        root.setAttribute("data-exchanges-state", "closed");
        say(status, "Les nouveaux messages ne s'affichent plus tout seuls : actualisez la page.");
      } else {
        root.setAttribute("data-exchanges-state", "reconnecting");
      }
    });

    // Leaving the page closes the stream; coming back to it from the history (the
    // back-forward cache) opens a new one, asked to the gate again.
    window.addEventListener("pagehide", function () {
      source.close();
    });
    window.addEventListener(
      "pageshow",
      function (event) {
        if (event.persisted && source.readyState === EventSource.CLOSED) {
          var again = target && target.getAttribute("data-last-message-id");
          start(root, again ? url.replace(/([?&]apres=)[0-9]+/, "$1" + again) : url, target, status);
        }
      },
      { once: true }
    );
  }

  // This file is loaded by every page (base.html); it acts only where it finds its hooks.
  var script = document.currentScript;
  var conversationStream = script ? script.getAttribute("data-conversation-stream") : null;

  function init() {
    document.querySelectorAll("[data-exchanges-stream]").forEach(function (root) {
      var selector = root.getAttribute("data-target");
      start(
        root,
        root.getAttribute("data-exchanges-stream"),
        selector ? document.querySelector(selector) : null,
        root.querySelector("[data-exchanges-status]")
      );
    });
    // The professionals' conversation page (exchanges/pro/conversation.html): its list of
    // messages says which conversation it shows and the last message it rendered.
    var list = document.getElementById("conversation-messages");
    if (list && conversationStream && !list.hasAttribute("data-exchanges-bound")) {
      var id = list.getAttribute("data-conversation-id") || "";
      var last = list.getAttribute("data-last-message-id") || "0";
      if (/^[0-9]+$/.test(id) && /^[0-9]+$/.test(last)) {
        list.setAttribute("data-exchanges-bound", "");
        var url = conversationStream.replace(/\/0\/$/, "/" + id + "/") + "?apres=" + last;
        var status = document.querySelector("[data-exchanges-status]");
        if (!status) {
          // Somewhere to say what arrived, for a screen reader (polite, not the whole list).
          status = document.createElement("p");
          status.className = "visually-hidden";
          status.setAttribute("role", "status");
          list.insertAdjacentElement("afterend", status);
        }
        start(list, url, list, status);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
