/* Sapa agent console: live inbox and conversation pages over one WebSocket per tab.
 *
 * Plain JavaScript, no build step. Everything customers or agents wrote is put into
 * the page with textContent (never innerHTML), so markup in a message shows as text.
 * State-changing requests carry the session's CSRF token (X-CSRF-Token header, or the
 * "csrf" field of a socket message). Without JavaScript the pages still work: the
 * forms post normally and the server redirects back.
 */
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = meta ? meta.getAttribute("content") : "";
  var body = document.body;
  var ME = {
    id: Number(body.getAttribute("data-agent-id") || 0),
    name: body.getAttribute("data-agent-name") || "",
    admin: body.getAttribute("data-role") === "admin",
    teams: (body.getAttribute("data-teams") || "").split(",").filter(Boolean),
  };
  var dataEl = document.getElementById("console-data");
  var DATA = {};
  try { DATA = dataEl ? JSON.parse(dataEl.textContent) : {}; } catch (e) { DATA = {}; }

  var STATUS = { bot: "Bot", waiting_for_agent: "Menunggu agen", with_agent: "Ditangani agen", resolved: "Selesai" };
  var CHANNEL = { widget: "Widget web", telegram: "Telegram", rest: "REST" };
  var SENDER = { customer: "Pelanggan", bot: "Bot", agent: "Agen", system: "Info" };
  var PEOPLE = { waiting_for_agent: true, with_agent: true };

  // -- small helpers ---------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = String(v);
        else if (k === "className") node.className = v;
        else node.setAttribute(k, String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // Times in the shop's time zone, like the server-rendered ones ("22/11 14.05").
  var timeFormat = null;
  try {
    timeFormat = new Intl.DateTimeFormat("en-GB", {
      timeZone: body.getAttribute("data-tz") || undefined,
      day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
    });
  } catch (e) { timeFormat = null; }

  function shortTime(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "—";
    if (timeFormat) {
      var parts = {};
      timeFormat.formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
      return parts.day + "/" + parts.month + " " + parts.hour + "." + parts.minute;
    }
    return pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + " " + pad(d.getHours()) + "." + pad(d.getMinutes());
  }

  function request(method, url, payload) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": CSRF },
    };
    if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    return fetch(url, init).then(function (r) {
      if (r.status === 401) { location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search); }
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { var err = new Error(j.message || ("HTTP " + r.status)); err.code = j.error; throw err; }
        return j;
      });
    });
  }

  function formPayload(form) {
    var out = {};
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token") return;
      if (key in out) { out[key] = [].concat(out[key], value); } else { out[key] = value; }
    });
    return out;
  }

  // -- the socket -------------------------------------------------------------------------

  var socket = null;
  var backoff = 500;
  var listeners = [];
  var connectedOnce = false;
  var loggingOut = false;
  var logoutForm = document.querySelector("form.logout");
  if (logoutForm) logoutForm.addEventListener("submit", function () { loggingOut = true; });
  var liveEl = document.getElementById("live-status");

  function setLive(state, label) {
    if (!liveEl) return;
    liveEl.setAttribute("data-state", state);
    liveEl.textContent = label;
  }

  function send(frame) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(frame));
  }

  function connect() {
    if (!ME.id) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/console/ws";
    socket = new WebSocket(url);
    socket.onopen = function () {
      backoff = 500;
      setLive("online", "langsung");
      listeners.forEach(function (l) { if (l.open) l.open(connectedOnce); });
      connectedOnce = true;
    };
    socket.onmessage = function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      listeners.forEach(function (l) { if (l.event) l.event(ev); });
    };
    socket.onclose = function (e) {
      if (loggingOut) return; // the logout form's own answer leads to the login page
      setLive("offline", "terputus, menyambung lagi…");
      if (e.code === 4401) { location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }

  // -- the inbox ----------------------------------------------------------------------------

  function inboxPage() {
    var table = document.getElementById("inbox");
    if (!table) return;
    var tbody = table.querySelector("tbody");
    var empty = document.getElementById("inbox-empty");
    var count = document.getElementById("inbox-count");
    var filters = DATA.filters || {};
    var rows = {}; // id -> row data (only rows that match the filters)

    // ignoreSearch: whether the row matches everything but the search words.
    function matches(r, ignoreSearch) {
      var view = filters.view || "all";
      if (view === "mine" && r.agent_id !== ME.id) return false;
      if (view === "unassigned" && (r.agent_id !== null || !PEOPLE[r.status])) return false;
      if (view === "teams" && !(r.team && ME.teams.indexOf(r.team) >= 0)) return false;
      var status = filters.status || "people";
      if (status === "open" && r.status === "resolved") return false;
      if (status === "people" && !PEOPLE[r.status] && !r.ticket_number) return false;
      if (STATUS[status] && r.status !== status) return false;
      if (filters.channel && r.channel !== filters.channel) return false;
      if (filters.category && r.category !== filters.category) return false;
      if (filters.priority && r.priority !== filters.priority) return false;
      if (filters.team && r.team !== filters.team) return false;
      if (filters.q && !ignoreSearch) {
        var q = filters.q.toLowerCase();
        var hay = [r.customer_name, r.external_id, r.ticket_number].join(" ").toLowerCase();
        if (hay.indexOf(q) < 0) return false;
      }
      return true;
    }

    function rank(r) { return { waiting_for_agent: 0, with_agent: 1, bot: 2 }[r.status] === undefined ? 3 : { waiting_for_agent: 0, with_agent: 1, bot: 2 }[r.status]; }

    function compare(a, b) {
      var d = rank(a) - rank(b);
      if (d) return d;
      if (a.status === "waiting_for_agent") {
        var ha = a.handoff_at || "", hb = b.handoff_at || "";
        if (ha !== hb) return ha < hb ? -1 : 1;
      }
      var la = a.last_message_at || "", lb = b.last_message_at || "";
      if (la !== lb) return la < lb ? 1 : -1;
      return b.id - a.id;
    }

    function rowNode(r) {
      var tr = el("tr", { className: "row s-" + r.status, "data-id": r.id });
      tr.appendChild(el("td", { className: "c-status" }, [el("span", { className: "badge s-" + r.status, text: STATUS[r.status] || r.status })]));
      tr.appendChild(el("td", { className: "c-customer" }, [
        el("a", { href: "/console/conversations/" + r.id, text: r.customer_name || ("Pelanggan #" + r.customer_id) }),
        el("small", { className: "channel", text: CHANNEL[r.channel] || r.channel }),
      ]));
      tr.appendChild(el("td", { className: "c-last" }, [
        el("span", { className: "sender", text: SENDER[r.last_sender] || "" }), " ",
        el("span", { className: "text", text: (r.last_text || "").slice(0, 160) }),
      ]));
      var ticket = el("td", { className: "c-ticket" });
      if (r.category) ticket.appendChild(el("span", { className: "cat", text: (DATA.categories || {})[r.category] || r.category }));
      if (r.priority) { ticket.appendChild(document.createTextNode(" ")); ticket.appendChild(el("span", { className: "prio p-" + r.priority, text: (DATA.priorities || {})[r.priority] || r.priority })); }
      tr.appendChild(ticket);
      var agent = el("td", { className: "c-agent", text: r.agent_name || "—" });
      if (r.team) agent.appendChild(el("small", { className: "team", text: (DATA.teams || {})[r.team] || r.team }));
      tr.appendChild(agent);
      var waiting = r.status === "waiting_for_agent" && r.handoff_at;
      var at = waiting ? r.handoff_at : r.last_message_at;
      tr.appendChild(el("td", { className: "c-time" }, [el("time", { datetime: at || "", title: waiting ? "menunggu sejak" : null, text: shortTime(at) })]));
      return tr;
    }

    function render(freshId) {
      var list = Object.keys(rows).map(function (k) { return rows[k]; }).sort(compare);
      var existing = {};
      Array.prototype.forEach.call(tbody.querySelectorAll("tr[data-id]"), function (tr) { existing[tr.getAttribute("data-id")] = tr; });
      var frag = document.createDocumentFragment();
      list.forEach(function (r) {
        var node = rowNode(r);
        if (String(r.id) === String(freshId) || (existing[r.id] && existing[r.id].classList.contains("fresh"))) node.classList.add("fresh");
        frag.appendChild(node);
      });
      tbody.replaceChildren(frag);
      if (empty) empty.hidden = list.length > 0;
      if (count) count.textContent = String(list.length);
      if (freshId) setTimeout(function () {
        var tr = tbody.querySelector('tr[data-id="' + freshId + '"]');
        if (tr) tr.classList.remove("fresh");
      }, 4000);
    }

    function upsert(r) {
      var isNew = !rows[r.id];
      if (filters.q && !matches(r) && matches(r, true)) {
        // The search also looks at the customer's phone and e-mail, which live rows do not
        // carry: only the server can tell whether this one still matches (a customer found by
        // their phone number used to vanish from the list as soon as they wrote again).
        reloadSoon(isNew ? r.id : null);
        return;
      }
      if (matches(r)) { rows[r.id] = r; render(isNew ? r.id : null); }
      else if (rows[r.id]) { delete rows[r.id]; render(); }
    }

    var reloadTimer = null, reloadFresh = null;
    function reloadSoon(freshId) {
      if (freshId) reloadFresh = freshId;
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(function () {
        var fresh = reloadFresh;
        reloadFresh = null;
        reload(fresh);
      }, 300);
    }

    function reload(freshId) {
      return request("GET", "/console/api/inbox" + location.search).then(function (j) {
        rows = {};
        if (j.filters) filters = j.filters;
        j.rows.forEach(function (r) { rows[r.id] = r; });
        render(freshId && rows[freshId] ? freshId : null);
      }).catch(function () {});
    }

    listeners.push({
      open: function (again) { if (again) reload(); },
      event: function (ev) {
        if (ev.type === "conversation" && ev.row) upsert(ev.row);
        else if (ev.type === "message" && ev.row) upsert(ev.row);
        else if (ev.type === "remove" && rows[ev.id]) { delete rows[ev.id]; render(); }
      },
    });
    reload();
  }

  // -- a conversation --------------------------------------------------------------------------

  function conversationPage() {
    var info = DATA.conversation;
    if (!info) return;
    var cid = info.conversation_id;
    var lastSeq = info.last_seq || 0;
    var status = info.status;
    var agentId = info.agent_id;
    var timeline = document.getElementById("timeline");
    var errorBox = document.getElementById("action-error");
    var statusBadge = document.getElementById("conv-status");
    var agentLabel = document.getElementById("conv-agent");
    var typingEl = document.getElementById("customer-typing");
    var replyText = document.getElementById("reply-text");
    var names = DATA.agent_names || {};
    var catching = false;

    function showError(message) {
      if (!errorBox) return;
      errorBox.textContent = message || "";
      errorBox.hidden = !message;
    }

    function who(m) {
      if (m.sender_type === "customer") return DATA.customer_name || "Pelanggan";
      if (m.sender_type === "agent") return names[String(m.agent_id)] || (m.agent_id === ME.id ? ME.name : "Agen");
      return SENDER[m.sender_type] || "Bot";
    }

    function messageNode(m) {
      var metaChildren = [el("span", { className: "who", text: who(m) }), " ", el("time", { datetime: m.created_at || "", text: shortTime(m.created_at) })];
      if (m.sender_type === "customer" && m.intent) {
        metaChildren.push(" ");
        metaChildren.push(el("span", { className: "nlu", title: "Tebakan bot: maksud dan keyakinan", text: m.intent + " · " + Math.floor((m.confidence || 0) * 100) + "%" }));
      }
      if (m.sender_type === "bot" && m.action) {
        metaChildren.push(" ");
        metaChildren.push(el("span", { className: "nlu", text: m.action }));
      }
      var li = el("li", { className: "msg m-" + m.sender_type, "data-seq": m.seq }, [
        el("div", { className: "meta" }, metaChildren),
        el("div", { className: "text", text: m.text || "" }),
      ]);
      if (m.attachments && m.attachments.length) {
        var box = el("div", { className: "attachments" });
        m.attachments.forEach(function (a) {
          var url = String(a.url || "");
          if (url.charAt(0) === "/" && url.charAt(1) !== "/") {
            box.appendChild(el("a", { href: url, target: "_blank", rel: "noopener" }, [el("img", { src: url, alt: a.name || "lampiran" })]));
          } else {
            box.appendChild(el("span", { className: "att", text: a.name || url }));
          }
        });
        li.appendChild(box);
      }
      if (m.buttons && m.buttons.length) {
        li.appendChild(el("div", { className: "chips" }, m.buttons.map(function (b) { return el("span", { className: "chip", text: b.title || "" }); })));
      }
      return li;
    }

    function scrollDown() { if (timeline.lastElementChild) timeline.lastElementChild.scrollIntoView({ block: "end" }); }

    function append(m) {
      if (m.conversation_id !== undefined && m.conversation_id !== cid) return;
      if (m.seq <= lastSeq) return;
      if (m.seq > lastSeq + 1) { catchUp(); return; }
      timeline.appendChild(messageNode(m));
      lastSeq = m.seq;
      if (m.sender_type === "customer" && typingEl) typingEl.hidden = true;
      scrollDown();
    }

    function catchUp() {
      if (catching) return;
      catching = true;
      request("GET", "/console/api/conversations/" + cid + "/messages?after=" + lastSeq).then(function (j) {
        catching = false;
        j.messages.forEach(function (m) { if (m.seq === lastSeq + 1) { timeline.appendChild(messageNode(m)); lastSeq = m.seq; } });
        scrollDown();
      }).catch(function () { catching = false; });
    }

    function appendNote(n) {
      if (timeline.querySelector('[data-note-id="' + n.id + '"]')) return;
      timeline.appendChild(el("li", { className: "note", "data-note-id": n.id }, [
        el("div", { className: "meta" }, [el("span", { className: "who", text: "Catatan internal · " + (n.agent_name || "Agen") }), " ", el("time", { datetime: n.created_at, text: shortTime(n.created_at) })]),
        el("div", { className: "text", text: n.text }),
      ]));
      scrollDown();
    }

    function setState(newStatus, newAgentId, agentName) {
      if (newStatus) status = newStatus;
      if (newAgentId !== undefined) agentId = newAgentId;
      if (statusBadge) {
        statusBadge.className = "badge s-" + status;
        statusBadge.setAttribute("data-status", status);
        statusBadge.textContent = STATUS[status] || status;
      }
      if (agentLabel && newAgentId !== undefined) agentLabel.textContent = agentName ? "ditangani " + agentName : "belum ada agen";
      var select = document.querySelector('form[data-action="status"] select[name="status"]');
      if (select) select.value = status;
      var mine = status === "with_agent" && agentId === ME.id;
      toggle("take", status === "resolved" || mine);
      toggle("release", status !== "with_agent" && !(status === "waiting_for_agent" && agentId));
      toggle("handback", status === "bot" || status === "resolved");
      toggle("resolve", status === "resolved");
      var send = document.getElementById("reply-send");
      if (send) send.disabled = status === "resolved";
      if (replyText) replyText.disabled = status === "resolved";
    }

    function toggle(act, disabled) {
      var b = document.querySelector('button[data-act="' + act + '"]');
      if (b) b.disabled = !!disabled;
    }

    function showRating(score, comment) {
      var box = document.getElementById("rating");
      if (!box || !score) return;
      var stars = el("span", { className: "stars", "aria-label": score + " dari 5", text: "★★★★★".slice(0, score) + "☆☆☆☆☆".slice(0, 5 - score) });
      var children = [stars, " " + score + "/5"];
      if (comment) children.push(el("q", { text: comment }));
      box.replaceChildren.apply(box, children);
    }

    var typingTimer = null;
    listeners.push({
      open: function () { send({ type: "open", conversation_id: cid }); },
      event: function (ev) {
        if (ev.type === "opened" && ev.conversation_id === cid) { if (ev.last_seq > lastSeq) catchUp(); }
        else if (ev.type === "message" && ev.conversation_id === cid) {
          append(ev);
          if (ev.row) setState(ev.row.status, ev.row.agent_id, ev.row.agent_name);
        } else if (ev.type === "conversation" && ev.row && ev.row.id === cid) {
          setState(ev.row.status, ev.row.agent_id, ev.row.agent_name);
          if (ev.row.last_seq > lastSeq) catchUp();
          if (ev.row.csat_score) showRating(ev.row.csat_score, null);
        } else if (ev.type === "note" && ev.conversation_id === cid && ev.note) appendNote(ev.note);
        else if (ev.type === "rating" && ev.conversation_id === cid) showRating(ev.score, ev.comment);
        else if (ev.type === "typing" && ev.conversation_id === cid && typingEl) {
          typingEl.hidden = false;
          clearTimeout(typingTimer);
          typingTimer = setTimeout(function () { typingEl.hidden = true; }, 4000);
        }
      },
    });

    // Forms: posted as JSON with the CSRF header; the page updates from the answer.
    Array.prototype.forEach.call(document.querySelectorAll("form[data-action]"), function (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var act = form.getAttribute("data-action");
        var button = form.querySelector('button[type="submit"]');
        var focused = document.activeElement;
        if (button) button.disabled = true;
        showError("");
        request("POST", form.getAttribute("action"), formPayload(form)).then(function (j) {
          if (act === "reply" || act === "note") form.querySelector("textarea").value = "";
          if (act === "reply") saveDraft();
          if (j.note) appendNote(j.note);
          Object.keys(j.numbers || {}).forEach(function (key) {
            var cell = document.querySelector('#numbers [data-number="' + key + '"]');
            if (cell) cell.textContent = j.numbers[key];
          });
          (j.messages || []).forEach(append);
          if (j.conversation) {
            if (act === "take" || act === "reply") setState(j.conversation.status, ME.id, ME.name);
            else if (act === "handback" || act === "release") setState(j.conversation.status, null, null);
            else setState(j.conversation.status);
          }
          if (act === "transfer" || act === "fields") location.reload();
        }).catch(function (err) {
          showError(err.message || "Gagal, coba lagi.");
        }).then(function () {
          if (button) button.disabled = false;
          setState(null);
          keepFocus(act, form, focused);
        });
      });
    });

    // The pressed button is disabled while its request runs, and a disabled button drops the
    // focus to <body>: a keyboard user would start again from the top of the page. Put it
    // where the next step is: the reply box after taking over, the form's text box after a
    // reply or a note, else the button itself or (when it stays disabled, as "Selesaikan"
    // does) the conversation's status, which a screen reader then reads out.
    function keepFocus(act, form, focused) {
      var now = document.activeElement;
      if (now && now !== document.body && now !== document.documentElement) return;
      var target = null;
      if (act === "take") target = replyText;
      else if (act === "reply" || act === "note") target = form.querySelector("textarea");
      else if (focused && focused !== document.body && !focused.disabled && document.contains(focused)) target = focused;
      if (!target || target.disabled) target = statusBadge;
      if (target) target.focus();
    }

    // The reply being written outlives the page: when the session ends (2 hours unused) the
    // console sends the agent to log in, and the text they were about to send came back
    // empty. Kept in this tab's sessionStorage, per agent and conversation, until it is sent.
    var draftKey = "sapa-draft:" + ME.id + ":" + cid;
    function saveDraft() {
      if (!replyText) return;
      try {
        if (replyText.value.trim()) sessionStorage.setItem(draftKey, replyText.value);
        else sessionStorage.removeItem(draftKey);
      } catch (e) { /* storage off or full: only the safety net is missing */ }
    }
    if (replyText && !replyText.value) {
      try { replyText.value = sessionStorage.getItem(draftKey) || ""; } catch (e) { /* as above */ }
    }

    if (replyText) {
      var lastTyping = 0;
      replyText.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          var form = document.getElementById("reply-form");
          if (replyText.value.trim()) form.requestSubmit();
        }
      });
      replyText.addEventListener("input", function () {
        saveDraft();
        var now = Date.now();
        if (status === "with_agent" && now - lastTyping > 2000) {
          lastTyping = now;
          send({ type: "typing", conversation_id: cid, on: true, csrf: CSRF });
        }
      });
    }

    var canned = document.getElementById("canned");
    if (canned && replyText) {
      canned.addEventListener("change", function () {
        var chosen = (DATA.canned || []).filter(function (c) { return String(c.id) === canned.value; })[0];
        if (chosen) {
          replyText.value = replyText.value.trim() ? replyText.value.replace(/\s+$/, "") + "\n" + chosen.text : chosen.text;
          saveDraft();
          replyText.focus();
          // Said now rather than when the reply is refused: these need the agent's own words.
          var unfilled = (chosen.unfilled || []).map(function (n) { return "{" + n + "}"; });
          if (unfilled.length) showError("Isian " + unfilled.join(", ") + " belum terisi untuk pelanggan ini. Ganti dulu sebelum mengirim.");
        }
        canned.value = "";
      });
    }

    setState(status);
    scrollDown();
  }

  // Actions that cannot be taken back (cancelling an order, rejecting a payment, deleting a
  // canned response) ask first: their forms carry the question in data-confirm. Capturing,
  // so a form's own submit handler never runs when the admin says no.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  inboxPage();
  conversationPage();
  connect();
})();
