/*!
 * Sapa chat widget — one script tag puts the shop assistant on any page:
 *
 *   <script src="https://SHOP-HOST/widget.js" async></script>
 *
 * Plain JavaScript, no framework, no build step. Everything it draws lives in a
 * shadow root, so the page's CSS cannot reach in and ours cannot leak out.
 * Message text is only ever inserted as text (textContent / text nodes), never
 * as HTML. The protocol spoken with the server is web_widget/PROTOCOL.md.
 *
 * A small API for the shop's own scripts: window.SapaWidget.open(), .close(),
 * .toggle(), .setLang("id" | "en"), and .send(text, title): open the chat and send `text`
 * (what the customer would type, or a button payload such as "/order_status", shown as
 * `title`) once the chat is ready and the pre-chat form, when the shop asks for one, is filled in.
 */
(function () {
  "use strict";

  if (window.SapaWidget) return; // the tag was pasted twice

  // ---------------------------------------------------------------- where we live
  var script =
    document.currentScript ||
    (function () {
      var all = document.querySelectorAll('script[src*="widget.js"]');
      return all[all.length - 1];
    })();
  if (!script || !script.src) return;
  var BASE = new URL("./", new URL(script.src, location.href)); // the Sapa server
  function endpoint(path) {
    return new URL(path, BASE);
  }
  var WS_BASE = (function () {
    var u = endpoint("widget/ws");
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    return u;
  })();

  // ---------------------------------------------------------------- small helpers
  var K = {
    token: "sapa:token",
    lang: "sapa:lang",
    outbox: "sapa:outbox",
    config: "sapa:config",
    seen: "sapa:seen",
    open: "sapa:open",
    prechat: "sapa:prechat:",
    active: "sapa:active", // the visitor has opened the chat once: connect on every page
    rated: "sapa:rated:",
  };
  function storage(kind) {
    var s = null;
    try {
      s = window[kind];
      var probe = "sapa:probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
    } catch (e) {
      s = null; // private mode, blocked cookies: keep going in memory
    }
    var mem = {};
    return {
      get: function (k) {
        try {
          return s ? s.getItem(k) : k in mem ? mem[k] : null;
        } catch (e) {
          return null;
        }
      },
      set: function (k, v) {
        try {
          if (s) s.setItem(k, v);
          else mem[k] = v;
        } catch (e) {
          /* quota: ignore */
        }
      },
      remove: function (k) {
        try {
          if (s) s.removeItem(k);
          else delete mem[k];
        } catch (e) {
          /* ignore */
        }
      },
      getJSON: function (k, fallback) {
        var raw = this.get(k);
        if (raw == null) return fallback;
        try {
          return JSON.parse(raw);
        } catch (e) {
          return fallback;
        }
      },
      setJSON: function (k, v) {
        this.set(k, JSON.stringify(v));
      },
    };
  }
  var LS = storage("localStorage");
  var SS = storage("sessionStorage");

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) {
      return (x + 0x100).toString(16).slice(1);
    });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") + "-" +
      h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        var v = attrs[k];
        if (v == null || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null || c === false) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  // Static icons (constant markup, never message text), parsed once.
  var ICONS = {
    chat: '<path d="M12 3C6.5 3 2 6.86 2 11.62c0 2.4 1.15 4.57 3 6.13V22l4.08-2.3c.94.22 1.92.34 2.92.34 5.5 0 10-3.86 10-8.62S17.5 3 12 3Z" fill="currentColor"/>',
    close: '<path d="M6 6l12 12M18 6 6 18" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" fill="none"/>',
    chevron: '<path d="m6 9 6 6 6-6" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
    send: '<path d="M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z" fill="currentColor"/>',
    clip: '<path d="M21 11.5 12.6 19.9a5.2 5.2 0 0 1-7.4-7.4l8.5-8.5a3.5 3.5 0 0 1 4.9 4.9l-8.5 8.5a1.7 1.7 0 0 1-2.5-2.5l7.8-7.8" stroke="currentColor" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
    clock: '<circle cx="12" cy="12" r="8.5" stroke="currentColor" stroke-width="2" fill="none"/><path d="M12 7.5V12l3 2" stroke="currentColor" stroke-width="2" stroke-linecap="round" fill="none"/>',
    check: '<path d="m5 12.5 4.5 4.5L19 7.5" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
    alert: '<circle cx="12" cy="12" r="9" fill="currentColor"/><path d="M12 7v6M12 16.5v.5" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/>',
    star: '<path d="m12 2.8 2.8 5.9 6.4.8-4.7 4.4 1.2 6.4L12 17.2l-5.7 3.1 1.2-6.4-4.7-4.4 6.4-.8z" fill="currentColor"/>',
    moon: '<path d="M20 14.5A8.5 8.5 0 0 1 9.5 4a8.5 8.5 0 1 0 10.5 10.5Z" fill="currentColor"/>',
    globe: '<circle cx="12" cy="12" r="9" stroke="currentColor" stroke-width="1.8" fill="none"/><path d="M3 12h18M12 3c2.5 2.6 3.8 5.6 3.8 9s-1.3 6.4-3.8 9c-2.5-2.6-3.8-5.6-3.8-9S9.5 5.6 12 3Z" stroke="currentColor" stroke-width="1.8" fill="none"/>',
  };
  function icon(name, size) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size || 20));
    svg.setAttribute("height", String(size || 20));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.innerHTML = ICONS[name]; // constant markup only
    return svg;
  }

  // ---------------------------------------------------------------- texts
  var STRINGS = {
    id: {
      openChat: "Buka chat",
      closeChat: "Tutup chat",
      newMessages: "{n} pesan baru",
      newMessage: "1 pesan baru",
      online: "Online",
      onlineSub: "siap membantu Kakak",
      offline: "Sedang offline",
      offlineDefault: "Admin kami sedang offline. Asisten tetap siap menjawab, dan admin akan membalas di jam kerja ya, Kak.",
      connecting: "Menyambungkan…",
      reconnecting: "Koneksi terputus. Menyambungkan ulang…",
      blocked: "Maaf, chat belum bisa dipakai di halaman ini.",
      placeholder: "Tulis pesan…",
      composerLabel: "Pesan untuk {shop}",
      send: "Kirim pesan",
      attach: "Lampirkan gambar",
      removeAttachment: "Hapus lampiran",
      uploading: "Mengunggah gambar…",
      badType: "Maaf, Kak, yang bisa dikirim hanya gambar (JPG, PNG, WebP, atau GIF).",
      tooBig: "Ukuran gambarnya kebesaran, Kak. Maksimal {size} ya.",
      uploadFailed: "Gambar gagal diunggah. Coba lagi ya, Kak.",
      tooLong: "Pesannya kepanjangan, Kak. Maksimal {n} karakter ya.",
      charsLeft: "Sisa {n} karakter",
      charLeft: "Sisa 1 karakter",
      charsOver: "Kelebihan {n} karakter",
      charOver: "Kelebihan 1 karakter",
      you: "Anda",
      bot: "Asisten",
      agent: "Admin",
      system: "Info",
      sending: "Mengirim…",
      sent: "Terkirim",
      failed: "Belum terkirim.",
      retry: "Kirim ulang",
      typingBot: "Asisten sedang mengetik",
      typingAgent: "Admin sedang mengetik",
      today: "Hari ini",
      yesterday: "Kemarin",
      image: "Gambar",
      openImage: "Buka gambar {name} di tab baru",
      quickReplies: "Pilihan balasan cepat",
      greeting: "Halo, Kak! 👋 Ada yang bisa kami bantu hari ini?",
      prechatTitle: "Sebelum mulai, boleh kenalan dulu, Kak?",
      prechatIntro: "Data ini membantu admin kami melayani Kakak lebih cepat.",
      name: "Nama",
      email: "Email",
      phone: "No. HP / WhatsApp",
      namePh: "Nama Kakak",
      emailPh: "nama@email.com",
      phonePh: "0812-3456-7890",
      optional: "opsional",
      start: "Mulai chat",
      skip: "Lewati",
      required: "Yang ini wajib diisi ya, Kak.",
      invalidName: "Nama maksimal 100 karakter ya, Kak.",
      invalidEmail: "Format email belum benar, contohnya nama@email.com.",
      invalidPhone: "Nomor HP belum benar, contohnya 0812-3456-7890.",
      ratingTitle: "Bagaimana pelayanan kami hari ini?",
      ratingStar: "{n} dari 5 bintang",
      ratingLabels: ["Kurang sekali", "Kurang", "Cukup", "Bagus", "Bagus sekali!"],
      ratingComment: "Ada kritik atau saran? (opsional)",
      ratingSubmit: "Kirim penilaian",
      ratingThanks: "Terima kasih atas penilaiannya, Kak! 🙏",
      langButton: "EN",
      langLabel: "Switch to English",
      poweredBy: "Didukung Sapa",
      chatWindow: "{shop}",
      messagesLabel: "Percakapan",
    },
    en: {
      openChat: "Open chat",
      closeChat: "Close chat",
      newMessages: "{n} new messages",
      newMessage: "1 new message",
      online: "Online",
      onlineSub: "happy to help",
      offline: "Offline",
      offlineDefault: "Our team is offline right now. The assistant can still help, and a person will reply during business hours.",
      connecting: "Connecting…",
      reconnecting: "Connection lost. Reconnecting…",
      blocked: "Sorry, chat isn't available on this page.",
      placeholder: "Write a message…",
      composerLabel: "Message to {shop}",
      send: "Send message",
      attach: "Attach an image",
      removeAttachment: "Remove attachment",
      uploading: "Uploading image…",
      badType: "Sorry, only images can be sent (JPG, PNG, WebP or GIF).",
      tooBig: "That image is too large. The limit is {size}.",
      uploadFailed: "The image couldn't be uploaded. Please try again.",
      tooLong: "That message is too long. The limit is {n} characters.",
      charsLeft: "{n} characters left",
      charLeft: "1 character left",
      charsOver: "{n} characters too many",
      charOver: "1 character too many",
      you: "You",
      bot: "Assistant",
      agent: "Agent",
      system: "Info",
      sending: "Sending…",
      sent: "Sent",
      failed: "Not sent.",
      retry: "Retry",
      typingBot: "The assistant is typing",
      typingAgent: "An agent is typing",
      today: "Today",
      yesterday: "Yesterday",
      image: "Image",
      openImage: "Open image {name} in a new tab",
      quickReplies: "Quick replies",
      greeting: "Hi there! 👋 How can we help you today?",
      prechatTitle: "Before we start, may we know who you are?",
      prechatIntro: "This helps our team help you faster.",
      name: "Name",
      email: "E-mail",
      phone: "Phone / WhatsApp",
      namePh: "Your name",
      emailPh: "name@example.com",
      phonePh: "0812-3456-7890",
      optional: "optional",
      start: "Start chat",
      skip: "Skip",
      required: "This field is required.",
      invalidName: "Please keep your name under 100 characters.",
      invalidEmail: "Please enter a valid e-mail, e.g. name@example.com.",
      invalidPhone: "Please enter a valid phone number, e.g. 0812-3456-7890.",
      ratingTitle: "How did we do today?",
      ratingStar: "{n} out of 5 stars",
      ratingLabels: ["Very poor", "Poor", "Okay", "Good", "Excellent!"],
      ratingComment: "Anything we could do better? (optional)",
      ratingSubmit: "Send rating",
      ratingThanks: "Thank you for your feedback! 🙏",
      langButton: "ID",
      langLabel: "Ganti ke Bahasa Indonesia",
      poweredBy: "Powered by Sapa",
      chatWindow: "{shop}",
      messagesLabel: "Conversation",
    },
  };

  function browserLang() {
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
    for (var i = 0; i < langs.length; i++) {
      var l = String(langs[i] || "").toLowerCase();
      if (l.indexOf("id") === 0 || l.indexOf("in") === 0 || l.indexOf("ms") === 0) return "id";
      if (l.indexOf("en") === 0) return "en";
    }
    return "id"; // Indonesian first
  }

  // ---------------------------------------------------------------- configuration
  var DEFAULTS = {
    title: null,
    subtitle: null,
    logo: endpoint("widget/assets/logo.svg").toString(),
    primary: "#6d3b1f",
    position: "right",
    greeting: null,
    prechat: { name: "off", email: "off", phone: "off" },
    maxText: 2000,
    maxUpload: 5 * 1024 * 1024,
    imageTypes: ["image/png", "image/jpeg", "image/webp", "image/gif"],
  };

  function first(obj, keys) {
    if (!obj || typeof obj !== "object") return undefined;
    for (var i = 0; i < keys.length; i++) if (obj[keys[i]] != null) return obj[keys[i]];
    return undefined;
  }
  function isColor(c) {
    return typeof c === "string" && /^(#[0-9a-f]{3,8}|rgba?\([\d\s.,%]+\)|hsla?\([\d\s.,%deg]+\))$/i.test(c.trim());
  }
  function fieldMode(v) {
    if (v === true) return "optional";
    if (v === false || v == null) return "off";
    if (typeof v === "object") v = first(v, ["mode", "state", "status"]);
    v = String(v || "off").toLowerCase();
    return v === "required" || v === "optional" ? v : "off";
  }
  function normalizeConfig(raw) {
    var c = Object.assign({}, DEFAULTS, { prechat: Object.assign({}, DEFAULTS.prechat) });
    if (!raw || typeof raw !== "object") return c;
    c.title = first(raw, ["title", "shop_name", "name"]) || null;
    c.subtitle = first(raw, ["subtitle", "tagline"]) || null;
    var logo = first(raw, ["logo_url", "logo"]);
    if (typeof logo === "string" && logo) c.logo = endpoint(logo).toString();
    var colors = first(raw, ["colors", "colours", "theme"]) || {};
    var primary = first(colors, ["primary", "accent", "brand"]) || first(raw, ["primary_color", "color", "colour"]);
    if (isColor(primary)) c.primary = primary.trim();
    var pos = String(first(raw, ["position"]) || "right").toLowerCase();
    c.position = pos.indexOf("left") >= 0 ? "left" : "right";
    c.greeting = first(raw, ["greeting", "greeting_message", "welcome"]) || null;
    var pre = first(raw, ["prechat", "pre_chat", "prechat_form", "pre_chat_form"]);
    if (pre && typeof pre === "object") {
      var fields = pre.fields && typeof pre.fields === "object" && !Array.isArray(pre.fields) ? pre.fields : pre;
      ["name", "email", "phone"].forEach(function (f) {
        c.prechat[f] = fieldMode(fields[f]);
      });
      if (pre.enabled === false) c.prechat = { name: "off", email: "off", phone: "off" };
    }
    var onP = first(colors, ["text_on_primary", "on_primary", "text"]);
    c.onPrimary = isColor(onP) ? onP.trim() : null;
    var limits = raw.limits || {};
    var mt = first(limits, ["max_chars", "message_chars"]) || first(raw, ["max_chars", "max_text_chars"]);
    if (mt > 0) c.maxText = mt;
    var mu = first(limits, ["upload_max_bytes", "max_upload_bytes"]) || first(raw, ["upload_max_bytes", "max_upload_bytes"]);
    if (mu > 0) c.maxUpload = mu;
    c.shopName = first(raw, ["shop_name"]) || null;
    var csat = raw.csat || {};
    c.csatQuestion = first(csat, ["question"]) || null;
    c.online = raw.online !== false;
    c.offlineMessage = raw.offline_message || null;
    return c;
  }

  // ---------------------------------------------------------------- state
  var S = {
    lang: null,
    token: LS.get(K.token),
    visitorId: null,
    conversationId: null,
    config: normalizeConfig(LS.getJSON(K.config, null)),
    rawConfig: LS.getJSON(K.config, null),
    hasSession: false,
    ws: null,
    connected: false,
    everConnected: false,
    blocked: false,
    attempts: 0,
    reconnectTimer: null,
    lastRx: 0,
    online: true,
    offlineMessage: null, // {id, en} or a string
    availability: null, // {anchor: Date.now() when told, states: [{in_seconds, online, offline_message}]}
    status: null,
    entries: [], // {key, seq, sender, text, buttons, attachments, createdAt, local}
    bySeq: {},
    maxSeq: 0,
    outbox: [], // {client_id, text, display, attachments, createdAt, state}
    control: [], // prechat / rating frames waiting for a connection
    typing: { who: null, timer: null },
    rating: null, // null | "asked" | "done"
    open: false,
    prechatShown: false,
    prechatDraft: null, // what the customer last sent in the pre-chat form
    prechatRefused: null, // {field, message} the server refused: the form comes back for it
    serverLang: null, // the language the server writes its own notes in (welcome, then each message's)
    upload: null, // {file, previewUrl, state: uploading|ready|error, result}
    stick: true,
    payloadTitles: {},
    lastTypingSent: 0,
    pendingSend: null, // {text, display} from SapaWidget.send(), waiting for the session / pre-chat form
  };
  var storedLang = LS.get(K.lang);
  S.lang = storedLang === "id" || storedLang === "en" ? storedLang : browserLang();

  function t(key, vars) {
    var s = (STRINGS[S.lang] || STRINGS.id)[key];
    if (s == null) s = STRINGS.id[key];
    if (typeof s === "string" && vars) {
      s = s.replace(/\{(\w+)\}/g, function (m, k) {
        return k in vars ? String(vars[k]) : m;
      });
    }
    return s;
  }
  function localized(v) {
    if (v == null) return null;
    if (typeof v === "string") return v;
    if (typeof v === "object") return v[S.lang] || v.id || v.en || null;
    return String(v);
  }
  function botName() {
    return S.config.shopName ? t("bot") + " " + S.config.shopName : t("bot");
  }
  function shopTitle() {
    return localized(S.config.title) || S.config.shopName || "";
  }

  // ---------------------------------------------------------------- styles
  var CSS = [
    ":host{all:initial;}",
    "*,*::before,*::after{box-sizing:border-box;}",
    ".root{--p:#6d3b1f;--on-p:#fff;--p-soft:rgba(109,59,31,.1);font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,'Helvetica Neue',Arial,'Noto Sans',sans-serif;font-size:14px;line-height:1.45;color:#1f2328;-webkit-font-smoothing:antialiased;text-align:left;}",
    ".sr{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0;}",
    "button{font:inherit;color:inherit;cursor:pointer;}",
    "button:focus-visible,a:focus-visible,textarea:focus-visible,input:focus-visible{outline:2px solid var(--p);outline-offset:2px;}",
    /* launcher */
    ".launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;background:var(--p);color:var(--on-p);box-shadow:0 6px 20px rgba(0,0,0,.22),0 2px 6px rgba(0,0,0,.12);display:flex;align-items:center;justify-content:center;transition:transform .18s ease,box-shadow .18s ease;}",
    ".left .launcher{right:auto;left:20px;}",
    ".launcher:hover{transform:scale(1.06);box-shadow:0 10px 28px rgba(0,0,0,.26);}",
    ".launcher:focus-visible{outline:3px solid var(--p);outline-offset:3px;}",
    ".launcher .ic{position:absolute;display:flex;transition:transform .22s ease,opacity .18s ease;}",
    ".launcher .ic-close{opacity:0;transform:rotate(-90deg) scale(.6);}",
    ".is-open .launcher .ic-chat{opacity:0;transform:rotate(90deg) scale(.6);}",
    ".is-open .launcher .ic-close{opacity:1;transform:none;}",
    ".badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#e5372b;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid #fff;box-shadow:0 1px 3px rgba(0,0,0,.25);}",
    ".badge[hidden]{display:none;}",
    /* window */
    ".win{position:fixed;bottom:92px;right:20px;z-index:2147483001;width:384px;height:min(640px,calc(100vh - 120px));max-height:calc(100vh - 120px);background:#fff;border-radius:18px;box-shadow:0 12px 48px rgba(15,23,42,.22),0 2px 10px rgba(15,23,42,.08);display:flex;flex-direction:column;overflow:hidden;opacity:0;transform:translateY(14px) scale(.98);transform-origin:bottom right;pointer-events:none;visibility:hidden;transition:opacity .2s ease,transform .2s ease,visibility 0s linear .2s;}",
    ".left .win{right:auto;left:20px;transform-origin:bottom left;}",
    ".is-open .win{opacity:1;transform:none;pointer-events:auto;visibility:visible;transition:opacity .2s ease,transform .2s ease;}",
    /* header */
    ".head{flex:none;background:linear-gradient(135deg,var(--p),var(--p-dark));color:var(--on-p);padding:16px 14px 16px 16px;display:flex;align-items:center;gap:12px;}",
    ".logo{flex:none;width:44px;height:44px;border-radius:50%;background:#fff;display:flex;align-items:center;justify-content:center;overflow:hidden;position:relative;box-shadow:0 0 0 2px rgba(255,255,255,.35);}",
    ".logo img{width:100%;height:100%;object-fit:cover;}",
    ".logo .initials{font-weight:700;font-size:17px;color:var(--p);}",
    ".dot{position:absolute;right:-1px;bottom:-1px;width:13px;height:13px;border-radius:50%;border:2px solid #fff;background:#22c55e;}",
    ".offline .dot{background:#9ca3af;}",
    ".head-text{flex:1;min-width:0;}",
    ".title{margin:0;font-size:16px;font-weight:650;line-height:1.25;overflow:hidden;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow-wrap:anywhere;}",
    ".status{font-size:12.5px;opacity:.9;margin-top:2px;line-height:1.3;}",
    ".hbtn{flex:none;height:34px;min-width:34px;border:0;border-radius:10px;background:rgba(255,255,255,.14);color:var(--on-p);display:inline-flex;align-items:center;justify-content:center;gap:5px;padding:0 9px;font-size:12.5px;font-weight:650;letter-spacing:.02em;transition:background .15s;}",
    ".hbtn:hover{background:rgba(255,255,255,.26);}",
    ".hbtn:focus-visible{outline:2px solid var(--on-p);outline-offset:1px;}",
    /* notices */
    ".notice{flex:none;display:flex;gap:8px;align-items:flex-start;padding:9px 14px;font-size:12.5px;line-height:1.4;background:#fff8e6;color:#6b4e00;border-bottom:1px solid #f4e3b5;}",
    ".notice svg{flex:none;margin-top:1px;}",
    ".notice.conn{background:#eef2ff;color:#3730a3;border-bottom-color:#dfe3fb;}",
    ".notice.err{background:#fdecec;color:#8a1c1c;border-bottom-color:#f6d1d1;}",
    ".notice[hidden]{display:none;}",
    /* body. Small grey texts (times, day labels, the counter, the placeholder) keep a 4.5:1
       contrast (WCAG AA): they are read on phones, often outdoors. */
    ".body{flex:1;min-height:0;display:flex;flex-direction:column;background:#f7f7f9;}",
    ".scroll{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;padding:16px 14px 8px;}",
    ".log{display:flex;flex-direction:column;gap:2px;}",
    ".day{align-self:center;margin:12px 0 8px;font-size:11.5px;font-weight:600;color:#4b5563;background:#ececf1;border-radius:10px;padding:2px 10px;}",
    ".row{display:flex;flex-direction:column;max-width:82%;margin-top:8px;animation:pop .18s ease;}",
    ".row.cont{margin-top:2px;}",
    "@keyframes pop{from{opacity:0;transform:translateY(4px);}to{opacity:1;transform:none;}}",
    ".row.customer{align-self:flex-end;align-items:flex-end;}",
    ".row.bot,.row.agent{align-self:flex-start;align-items:flex-start;}",
    ".who{font-size:11.5px;font-weight:600;color:#6b7280;margin:0 0 3px 4px;}",
    ".agent .who{color:var(--p);}",
    ".bubble{padding:9px 13px;border-radius:18px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;font-size:14px;line-height:1.45;}",
    ".bot .bubble{background:#fff;color:#1f2328;border-bottom-left-radius:6px;box-shadow:0 1px 2px rgba(15,23,42,.08);}",
    ".agent .bubble{background:#fff;color:#1f2328;border-bottom-left-radius:6px;box-shadow:0 1px 2px rgba(15,23,42,.08);border-left:3px solid var(--p);}",
    ".customer .bubble{background:var(--p);color:var(--on-p);border-bottom-right-radius:6px;}",
    ".cont.bot .bubble,.cont.agent .bubble{border-top-left-radius:6px;}",
    ".cont.customer .bubble{border-top-right-radius:6px;}",
    ".bubble a{color:inherit;text-decoration:underline;text-underline-offset:2px;}",
    ".bot .bubble a,.agent .bubble a{color:var(--p-text);}",
    ".meta{display:flex;align-items:center;gap:4px;font-size:11px;color:#5f6368;margin:3px 6px 0;}",
    ".meta svg{width:13px;height:13px;}",
    ".meta .ok{color:var(--p-text);}",
    ".meta .bad{color:#d93025;}",
    ".meta .retry{border:0;background:none;padding:0 2px;color:#d93025;font-weight:650;text-decoration:underline;font-size:11px;}",
    ".pending .bubble{opacity:.72;}",
    ".failed .bubble{opacity:.6;}",
    ".row.system{align-self:center;max-width:92%;align-items:center;}",
    ".system .bubble{background:transparent;color:#5f6368;font-size:12.5px;text-align:center;padding:4px 10px;border-radius:10px;}",
    ".system.err .bubble{background:#fdecec;color:#8a1c1c;}",
    ".imgs{display:flex;flex-wrap:wrap;gap:6px;margin-bottom:4px;}",
    ".customer .imgs{justify-content:flex-end;}",
    ".thumb{display:block;border-radius:14px;overflow:hidden;background:#e5e7eb;line-height:0;box-shadow:0 1px 2px rgba(15,23,42,.1);}",
    ".thumb img{display:block;max-width:220px;max-height:220px;min-width:60px;min-height:60px;object-fit:cover;}",
    /* quick replies */
    ".qr{display:flex;flex-wrap:wrap;gap:6px;margin:10px 0 4px;padding-left:2px;}",
    ".qr[hidden]{display:none;}",
    ".qr button{border:1.5px solid var(--p);background:#fff;color:var(--p-text);border-radius:18px;padding:6px 13px;font-size:13.5px;font-weight:550;line-height:1.3;transition:background .15s,color .15s;}",
    ".qr button:hover{background:var(--p);color:var(--on-p);}",
    /* typing */
    ".typing{display:flex;align-items:center;gap:8px;margin-top:10px;}",
    ".typing[hidden]{display:none;}",
    ".dots{display:inline-flex;gap:4px;background:#fff;padding:12px 14px;border-radius:18px;border-bottom-left-radius:6px;box-shadow:0 1px 2px rgba(15,23,42,.08);}",
    ".dots i{width:7px;height:7px;border-radius:50%;background:#9aa0a6;animation:blink 1.2s infinite ease-in-out;}",
    ".dots i:nth-child(2){animation-delay:.15s;}.dots i:nth-child(3){animation-delay:.3s;}",
    "@keyframes blink{0%,60%,100%{opacity:.35;transform:translateY(0);}30%{opacity:1;transform:translateY(-3px);}}",
    ".typing-label{font-size:11.5px;color:#8b9099;}",
    /* rating card */
    ".card{background:#fff;border-radius:16px;box-shadow:0 1px 3px rgba(15,23,42,.1);padding:14px;margin:12px 0 6px;}",
    ".card[hidden]{display:none;}",
    ".card h3{margin:0 0 10px;font-size:14px;font-weight:650;text-align:center;}",
    ".stars{display:flex;justify-content:center;gap:4px;}",
    ".stars button{border:0;background:none;padding:3px;color:#d4d7dd;border-radius:8px;transition:transform .12s,color .12s;}",
    ".stars button:hover{transform:scale(1.12);}",
    ".stars button.on{color:#f5a524;}",
    ".star-label{text-align:center;font-size:12px;color:#6b7280;min-height:18px;margin:4px 0 8px;}",
    ".card textarea{width:100%;min-height:60px;resize:vertical;border:1px solid #d9dce1;border-radius:10px;padding:8px 10px;font:inherit;font-size:13.5px;color:#1f2328;background:#fff;}",
    ".card .primary{margin-top:10px;width:100%;}",
    ".thanks{text-align:center;font-weight:600;color:#1f2328;margin:4px 0;}",
    /* composer */
    ".composer{flex:none;border-top:1px solid #eceef1;background:#fff;padding:10px 10px 8px;}",
    ".composer[hidden]{display:none;}",
    ".preview{display:flex;align-items:center;gap:10px;margin:0 4px 8px;padding:6px;border:1px solid #e5e7eb;border-radius:12px;background:#fafafb;}",
    ".preview[hidden]{display:none;}",
    ".preview img{width:48px;height:48px;border-radius:8px;object-fit:cover;background:#e5e7eb;}",
    ".preview .pv-text{flex:1;min-width:0;font-size:12.5px;color:#4b5563;}",
    ".preview .pv-name{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-weight:600;color:#1f2328;}",
    ".preview button{border:0;background:#eceef1;border-radius:50%;width:26px;height:26px;display:flex;align-items:center;justify-content:center;color:#4b5563;padding:0;}",
    ".inrow{display:flex;align-items:flex-end;gap:6px;}",
    ".inwrap{flex:1;min-width:0;display:flex;align-items:flex-end;border:1.5px solid #e1e4e8;border-radius:22px;background:#fff;padding:0 6px 0 14px;transition:border-color .15s,box-shadow .15s;}",
    ".inwrap:focus-within{border-color:var(--p);box-shadow:0 0 0 3px var(--p-soft);}",
    "textarea.input{flex:1;min-width:0;border:0;outline:0;resize:none;background:transparent;font:inherit;font-size:14.5px;line-height:20px;color:#1f2328;padding:10px 0;max-height:120px;min-height:40px;height:40px;}",
    "textarea.input::placeholder{color:#6b7280;}",
    ".ibtn{flex:none;width:36px;height:36px;margin:2px 0;border:0;border-radius:50%;background:none;color:#6b7280;display:flex;align-items:center;justify-content:center;transition:background .15s,color .15s;}",
    ".ibtn:hover{background:#f1f2f4;color:#1f2328;}",
    ".sendbtn{flex:none;width:44px;height:44px;border:0;border-radius:50%;background:var(--p);color:var(--on-p);display:flex;align-items:center;justify-content:center;transition:opacity .15s,transform .15s;}",
    ".sendbtn:disabled{opacity:.38;cursor:default;}",
    ".sendbtn:not(:disabled):hover{transform:scale(1.05);}",
    ".hint{display:flex;justify-content:space-between;gap:8px;font-size:11px;color:#6b7280;margin:6px 8px 0;}",
    ".hint .count.warn{color:#d93025;font-weight:600;}",
    ".powered{color:#b0b4ba;}",
    /* pre-chat */
    ".prechat{flex:1;min-height:0;overflow-y:auto;padding:20px 18px;background:#f7f7f9;}",
    ".prechat[hidden]{display:none;}",
    ".prechat form{background:#fff;border-radius:16px;box-shadow:0 1px 3px rgba(15,23,42,.1);padding:18px;}",
    ".prechat h3{margin:0 0 4px;font-size:15.5px;font-weight:650;}",
    ".prechat p{margin:0 0 14px;color:#6b7280;font-size:13px;}",
    ".field{margin-bottom:12px;}",
    ".field label{display:block;font-size:12.5px;font-weight:600;margin-bottom:5px;color:#374151;}",
    ".field label .opt{font-weight:400;color:#9aa0a6;}",
    ".field input{width:100%;height:40px;border:1.5px solid #e1e4e8;border-radius:10px;padding:0 12px;font:inherit;font-size:14px;color:#1f2328;background:#fff;outline:0;transition:border-color .15s,box-shadow .15s;}",
    ".field input:focus{border-color:var(--p);box-shadow:0 0 0 3px var(--p-soft);}",
    ".field input[aria-invalid=true]{border-color:#d93025;}",
    ".ferr{font-size:12px;color:#d93025;margin-top:4px;}",
    ".ferr:empty{display:none;}",
    ".primary{height:42px;border:0;border-radius:12px;background:var(--p);color:var(--on-p);font-weight:650;font-size:14px;padding:0 18px;transition:filter .15s;}",
    ".primary:hover{filter:brightness(1.08);}",
    ".primary:disabled{opacity:.5;cursor:default;}",
    ".actions{display:flex;gap:8px;align-items:center;margin-top:6px;}",
    ".actions .primary{flex:1;}",
    ".link{border:0;background:none;color:#6b7280;font-weight:600;padding:10px;text-decoration:underline;}",
    ".loading{flex:1;display:flex;align-items:center;justify-content:center;}",
    ".loading[hidden]{display:none;}",
    ".spin{width:28px;height:28px;border-radius:50%;border:3px solid #e5e7eb;border-top-color:var(--p);animation:spin .8s linear infinite;}",
    "@keyframes spin{to{transform:rotate(360deg);}}",
    /* small screens: the window is the whole screen */
    "@media (max-width:480px),(max-height:500px){",
    " .win{inset:0;width:100%;height:100%;max-height:none;border-radius:0;bottom:0;right:0;left:0;top:0;transform:translateY(24px);}",
    " .left .win{left:0;}",
    " .is-open .launcher{display:none;}",
    " .launcher{bottom:16px;right:16px;}",
    " .left .launcher{left:16px;}",
    " .head{padding-top:max(16px,env(safe-area-inset-top));}",
    " .composer{padding-bottom:max(8px,env(safe-area-inset-bottom));}",
    " textarea.input{font-size:16px;}",
    " .field input{font-size:16px;}",
    "}",
    "@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important;scroll-behavior:auto!important;}}",
  ].join("\n");

  function parseColor(c) {
    var probe = document.createElement("canvas").getContext("2d");
    if (!probe) return [109, 59, 31];
    probe.fillStyle = "#000";
    probe.fillStyle = c;
    var v = probe.fillStyle; // normalized "#rrggbb" or "rgba(...)"
    if (v[0] === "#") return [parseInt(v.slice(1, 3), 16), parseInt(v.slice(3, 5), 16), parseInt(v.slice(5, 7), 16)];
    var m = v.match(/[\d.]+/g) || [0, 0, 0];
    return [+m[0], +m[1], +m[2]];
  }
  function luminance(rgb) {
    var a = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
  }
  function applyTheme() {
    var rgb = parseColor(S.config.primary);
    var L = luminance(rgb);
    var dark = rgb.map(function (v) {
      return Math.round(v * 0.78);
    });
    var root = UI.root;
    root.style.setProperty("--p", "rgb(" + rgb.join(",") + ")");
    root.style.setProperty("--p-dark", "rgb(" + dark.join(",") + ")");
    root.style.setProperty("--p-soft", "rgba(" + rgb.join(",") + ",.16)");
    root.style.setProperty("--on-p", S.config.onPrimary || (L > 0.45 ? "#1f2328" : "#ffffff"));
    // Text in the primary colour on white must stay readable.
    root.style.setProperty("--p-text", L > 0.35 ? "#1f2328" : "rgb(" + rgb.join(",") + ")");
    root.classList.toggle("left", S.config.position === "left");
  }

  // ---------------------------------------------------------------- the DOM
  var UI = {};
  var i18n = []; // functions that re-apply texts after a language switch
  function bindText(fn) {
    i18n.push(fn);
    fn();
  }

  function build() {
    var host = document.createElement("sapa-chat");
    host.setAttribute("data-sapa-widget", "");
    host.style.cssText = "all:initial;position:static;display:block;";
    var shadow = host.attachShadow({ mode: "open" });
    var style = document.createElement("style");
    style.textContent = CSS;
    shadow.appendChild(style);

    var root = el("div", { class: "root" });
    UI.host = host;
    UI.shadow = shadow;
    UI.root = root;

    // launcher
    UI.badge = el("span", { class: "badge", "aria-hidden": "true", hidden: true });
    UI.launcher = el(
      "button",
      { class: "launcher", type: "button", "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": "sapa-window", onclick: toggle },
      el("span", { class: "ic ic-chat" }, icon("chat", 28)),
      el("span", { class: "ic ic-close" }, icon("close", 24)),
      UI.badge
    );

    // header
    UI.logoImg = el("img", { alt: "", src: S.config.logo });
    UI.logoImg.addEventListener("error", function () {
      UI.logoImg.remove();
      UI.logoInitials.hidden = false;
    });
    UI.logoInitials = el("span", { class: "initials", hidden: true, "aria-hidden": "true" });
    UI.logo = el("div", { class: "logo" }, UI.logoImg, UI.logoInitials, el("span", { class: "dot", "aria-hidden": "true" }));
    UI.title = el("h2", { class: "title", id: "sapa-title" });
    UI.status = el("div", { class: "status" });
    UI.langBtn = el("button", { class: "hbtn lang", type: "button", onclick: function () { setLang(S.lang === "id" ? "en" : "id"); } }, icon("globe", 16), el("span"));
    UI.closeBtn = el("button", { class: "hbtn close", type: "button", onclick: function () { close(true); } }, icon("chevron", 20));
    var head = el("div", { class: "head" }, UI.logo, el("div", { class: "head-text" }, UI.title, UI.status), UI.langBtn, UI.closeBtn);

    // notices
    UI.offline = el("div", { class: "notice offline-notice", hidden: true, role: "note" }, icon("moon", 16), el("span"));
    UI.conn = el("div", { class: "notice conn", hidden: true, role: "status" }, el("span"));

    // messages
    UI.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions" });
    UI.pending = el("div", { class: "log pending-log" });
    UI.typing = el("div", { class: "typing", hidden: true, role: "status" },
      el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")),
      el("span", { class: "typing-label" }));
    UI.qr = el("div", { class: "qr", role: "group", hidden: true });
    UI.rating = el("div", { class: "card rating", hidden: true });
    UI.scroll = el("div", { class: "scroll", tabindex: "-1" }, UI.log, UI.pending, UI.typing, UI.qr, UI.rating);

    // composer
    UI.file = el("input", { type: "file", accept: DEFAULTS.imageTypes.join(","), hidden: true, tabindex: "-1", onchange: onFileChosen });
    UI.previewImg = el("img", { alt: "" });
    UI.previewName = el("span", { class: "pv-name" });
    UI.previewState = el("span", { class: "pv-state" });
    UI.previewRemove = el("button", { type: "button", onclick: clearUpload }, icon("close", 14));
    UI.preview = el("div", { class: "preview", hidden: true },
      UI.previewImg, el("span", { class: "pv-text" }, UI.previewName, UI.previewState), UI.previewRemove);
    UI.input = el("textarea", { class: "input", rows: "1", autocomplete: "off", enterkeyhint: "send", "aria-describedby": "sapa-count" });
    UI.input.addEventListener("keydown", onInputKey);
    UI.input.addEventListener("input", onInput);
    UI.attachBtn = el("button", { class: "ibtn attach", type: "button", onclick: function () { UI.file.click(); } }, icon("clip", 21));
    UI.sendBtn = el("button", { class: "sendbtn", type: "button", disabled: true, onclick: sendFromComposer }, icon("send", 20));
    // The counter on screen is read with the box (aria-describedby), not live: announcing
    // every keystroke drowns the typing. Only reaching the limit is said, once (countLive).
    UI.count = el("span", { class: "count", id: "sapa-count" });
    UI.countLive = el("span", { class: "sr", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    UI.powered = el("span", { class: "powered" });
    UI.composer = el("div", { class: "composer" },
      UI.preview,
      el("div", { class: "inrow" }, el("div", { class: "inwrap" }, UI.input, UI.attachBtn), UI.sendBtn),
      el("div", { class: "hint" }, UI.count, UI.powered),
      UI.countLive,
      UI.file);

    UI.loading = el("div", { class: "loading", hidden: true }, el("div", { class: "spin", role: "progressbar" }));
    UI.prechat = el("div", { class: "prechat", hidden: true });
    UI.body = el("div", { class: "body" }, UI.loading, UI.prechat, UI.scroll, UI.composer);

    UI.win = el("div", { class: "win", id: "sapa-window", role: "dialog", "aria-modal": "false", "aria-labelledby": "sapa-title" },
      head, UI.offline, UI.conn, UI.body);
    UI.win.addEventListener("keydown", onWindowKey);

    root.appendChild(UI.win);
    root.appendChild(UI.launcher);
    shadow.appendChild(root);

    bindText(function () {
      var shop = shopTitle();
      UI.title.textContent = shop;
      UI.logoInitials.textContent = initials(shop);
      UI.win.setAttribute("aria-label", t("chatWindow", { shop: shop }));
      UI.langBtn.lastChild.textContent = t("langButton");
      UI.langBtn.setAttribute("aria-label", t("langLabel"));
      UI.langBtn.setAttribute("lang", S.lang === "id" ? "en" : "id");
      UI.closeBtn.setAttribute("aria-label", t("closeChat"));
      UI.closeBtn.title = t("closeChat");
      UI.log.setAttribute("aria-label", t("messagesLabel"));
      UI.qr.setAttribute("aria-label", t("quickReplies"));
      UI.input.placeholder = t("placeholder");
      UI.input.setAttribute("aria-label", t("composerLabel", { shop: shop }));
      UI.attachBtn.setAttribute("aria-label", t("attach"));
      UI.attachBtn.title = t("attach");
      UI.sendBtn.setAttribute("aria-label", t("send"));
      UI.sendBtn.title = t("send");
      UI.previewRemove.setAttribute("aria-label", t("removeAttachment"));
      UI.powered.textContent = t("poweredBy");
      UI.root.setAttribute("lang", S.lang);
      renderLauncherLabel();
      renderStatus();
      renderConn();
      renderCount();
    });

    applyTheme();
    document.body.appendChild(host);
  }

  function initials(name) {
    var words = String(name || "").trim().split(/\s+/).filter(Boolean);
    return ((words[0] || "S")[0] + (words[1] ? words[1][0] : "")).toUpperCase();
  }

  // ---------------------------------------------------------------- header, notices, badge
  function renderStatus() {
    if (!UI.status) return;
    UI.root.classList.toggle("offline", !S.online);
    UI.status.textContent = S.online ? t("online") + " · " + t("onlineSub") : t("offline");
    var show = !S.online;
    UI.offline.hidden = !show;
    UI.offline.lastChild.textContent = show ? localized(S.offlineMessage) || t("offlineDefault") : "";
  }

  // The server tells the notice's states from now on as offsets in seconds
  // ("availability", PROTOCOL.md): a timer to the next change keeps a page left
  // open in step with the shop's hours, without polling and without waiting for a
  // reconnect. Offsets, not clock times: a visitor's wrong clock does not matter.
  var hoursTimer = null;
  var HOURS_RECHECK = 6 * 3600 * 1000; // a long timer is re-armed rather than trusted (sleep, timer limits)
  var HOURS_RETRY = 10 * 60 * 1000;
  function setAvailability(states) {
    if (!Array.isArray(states)) return false;
    states = states.filter(function (s) {
      return s && typeof s === "object" && typeof s.in_seconds === "number" && s.in_seconds >= 0;
    }).sort(function (a, b) {
      return a.in_seconds - b.in_seconds;
    });
    if (!states.length) return false;
    S.availability = { anchor: Date.now(), states: states };
    followHours();
    return true;
  }
  function followHours() {
    clearTimeout(hoursTimer);
    hoursTimer = null;
    var a = S.availability;
    if (!a) return;
    var elapsed = Date.now() - a.anchor;
    var i = 0;
    while (i + 1 < a.states.length && a.states[i + 1].in_seconds * 1000 <= elapsed) i++;
    S.online = a.states[i].online !== false;
    S.offlineMessage = a.states[i].offline_message || null;
    renderStatus();
    var next = a.states[i + 1];
    if (next) {
      var wait = next.in_seconds * 1000 - elapsed + 500; // a moment after the change, never before it
      hoursTimer = setTimeout(followHours, Math.min(wait, HOURS_RECHECK));
    } else if (a.states.length > 1) {
      refreshHours(); // the known changes are used up: ask for the next ones
    }
  }
  function refreshHours() {
    S.availability = null;
    postSession().catch(function () {
      hoursTimer = setTimeout(refreshHours, HOURS_RETRY);
    });
  }
  var connShownTimer = null;
  function renderConn() {
    if (!UI.conn) return;
    var text = null,
      cls = "notice conn";
    if (S.blocked) {
      text = t("blocked");
      cls = "notice err";
    } else if (!S.connected && S.everConnected && connShownTimer === "shown") text = t("reconnecting");
    UI.conn.className = cls;
    UI.conn.hidden = !text;
    UI.conn.firstChild.textContent = text || "";
  }
  function unreadCount() {
    var seen = parseInt(LS.get(K.seen) || "0", 10) || 0;
    var n = 0;
    for (var i = 0; i < S.entries.length; i++) {
      var e = S.entries[i];
      if (e.seq && e.seq > seen && (e.sender === "bot" || e.sender === "agent")) n++;
    }
    return n;
  }
  function renderLauncherLabel() {
    if (!UI.launcher) return;
    var n = S.open ? 0 : unreadCount();
    UI.badge.hidden = n === 0;
    UI.badge.textContent = n > 9 ? "9+" : String(n);
    var label = S.open ? t("closeChat") : t("openChat") + (shopTitle() ? " — " + shopTitle() : "");
    if (n) label += " — " + (n === 1 ? t("newMessage") : t("newMessages", { n: n }));
    UI.launcher.setAttribute("aria-label", label);
    UI.launcher.setAttribute("aria-expanded", S.open ? "true" : "false");
  }
  function markSeen() {
    if (S.open && S.maxSeq > (parseInt(LS.get(K.seen) || "0", 10) || 0)) LS.set(K.seen, String(S.maxSeq));
    renderLauncherLabel();
  }

  // ---------------------------------------------------------------- message rendering
  var URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  function appendLinkified(parent, text) {
    var last = 0,
      m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text))) {
      var raw = m[0];
      // Trailing punctuation belongs to the sentence, not the link.
      var trimmed = raw.replace(/[.,;:!?)\]}'"]+$/, function (tail) {
        // keep a closing paren when the URL has an opening one
        if (tail[0] === ")" && raw.indexOf("(") >= 0) return tail.slice(1).length ? tail.slice(1) : "";
        return "";
      });
      if (trimmed !== raw && raw.indexOf("(") >= 0 && raw.charAt(trimmed.length) === ")") trimmed = raw.slice(0, trimmed.length + 1);
      var start = m.index,
        end = start + trimmed.length;
      var href = null;
      try {
        var u = new URL(trimmed);
        if (u.protocol === "http:" || u.protocol === "https:") href = u.href;
      } catch (e) {
        href = null;
      }
      if (!href) continue;
      if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
      var a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer nofollow ugc";
      a.textContent = trimmed;
      parent.appendChild(a);
      last = end;
      URL_RE.lastIndex = end;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function safeUrl(u) {
    if (!u || typeof u !== "string") return null;
    try {
      var url = new URL(u, BASE);
      return url.protocol === "https:" || url.protocol === "http:" || url.protocol === "blob:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function fmtTime(d) {
    try {
      return new Intl.DateTimeFormat(S.lang === "id" ? "id-ID" : "en-GB", { hour: "2-digit", minute: "2-digit" }).format(d);
    } catch (e) {
      return d.toTimeString().slice(0, 5);
    }
  }
  function fmtDay(d) {
    var today = new Date();
    var y = new Date();
    y.setDate(today.getDate() - 1);
    if (d.toDateString() === today.toDateString()) return t("today");
    if (d.toDateString() === y.toDateString()) return t("yesterday");
    try {
      return new Intl.DateTimeFormat(S.lang === "id" ? "id-ID" : "en-GB", { weekday: "long", day: "numeric", month: "long" }).format(d);
    } catch (e) {
      return d.toDateString();
    }
  }
  function parseDate(s) {
    var d = s ? new Date(s) : new Date();
    return isNaN(d.getTime()) ? new Date() : d;
  }

  function displayText(entry) {
    var text = entry.text == null ? "" : String(entry.text);
    if (entry.sender === "customer" && text.charAt(0) === "/" && S.payloadTitles[text]) return S.payloadTitles[text];
    return text;
  }

  function senderLabel(sender) {
    return sender === "customer" ? t("you") : sender === "agent" ? t("agent") : sender === "system" ? t("system") : t("bot");
  }

  function buildRow(entry, prev) {
    var sender = entry.sender;
    var cont = prev && prev.sender === sender && sender !== "system" && entry.createdAt - prev.createdAt < 5 * 60 * 1000 &&
      prev.createdAt.toDateString() === entry.createdAt.toDateString();
    var row = el("div", { class: "row " + sender + (cont ? " cont" : "") + (entry.error ? " err" : "") });
    if (entry.seq) row.setAttribute("data-seq", String(entry.seq));
    if (entry.client_id) row.setAttribute("data-client-id", entry.client_id);
    if (!cont && (sender === "agent" || sender === "bot")) {
      row.appendChild(el("div", { class: "who", "aria-hidden": "true" }, sender === "bot" ? botName() : t("agent")));
    }
    row.appendChild(el("span", { class: "sr" }, senderLabel(sender) + ", " + fmtTime(entry.createdAt) + ": "));
    var atts = entry.attachments || [];
    if (atts.length) {
      var imgs = el("div", { class: "imgs" });
      atts.forEach(function (a) {
        var src = safeUrl(a.url);
        if (!src) return;
        var name = a.name || t("image");
        imgs.appendChild(
          el("a", { class: "thumb", href: src, target: "_blank", rel: "noopener noreferrer", "aria-label": t("openImage", { name: name }) },
            el("img", { src: src, alt: name, loading: "lazy", decoding: "async" }))
        );
      });
      row.appendChild(imgs);
    }
    var text = displayText(entry);
    if (text) {
      var bubble = el("div", { class: "bubble" });
      appendLinkified(bubble, text);
      row.appendChild(bubble);
    }
    var meta = el("div", { class: "meta" }, el("time", { datetime: entry.createdAt.toISOString() }, fmtTime(entry.createdAt)));
    if (sender === "customer") {
      if (entry.state === "pending") {
        row.classList.add("pending");
        meta.appendChild(el("span", { class: "st", title: t("sending") }, icon("clock", 13), el("span", { class: "sr" }, t("sending"))));
      } else if (entry.state === "failed") {
        row.classList.add("failed");
        meta.appendChild(el("span", { class: "bad" }, icon("alert", 13)));
        meta.appendChild(el("span", { class: "bad" }, t("failed")));
        meta.appendChild(el("button", { class: "retry", type: "button", onclick: function () { retry(entry.client_id); } }, t("retry")));
      } else {
        meta.appendChild(el("span", { class: "ok", title: t("sent") }, icon("check", 13), el("span", { class: "sr" }, t("sent"))));
      }
    }
    if (sender !== "system") row.appendChild(meta);
    return row;
  }

  function dayKey(d) {
    return d.toDateString();
  }

  // Full rebuild of the history and pending lists (cheap; elements are small).
  function renderAll() {
    var nodes = [];
    var prev = null;
    var greeting = localized(S.config.greeting) || t("greeting");
    var items = S.entries.slice().sort(function (a, b) {
      return a.key - b.key;
    });
    if (greeting) {
      var gDate = items.length ? items[0].createdAt : new Date();
      var g = { sender: "bot", text: greeting, createdAt: gDate, attachments: [], greeting: true };
      nodes.push(el("div", { class: "day" }, fmtDay(gDate)));
      var gRow = buildRow(g, null);
      gRow.classList.add("greeting");
      gRow.querySelector(".meta").remove();
      nodes.push(gRow);
      prev = g;
    }
    items.forEach(function (e) {
      if (!prev || dayKey(prev.createdAt) !== dayKey(e.createdAt)) nodes.push(el("div", { class: "day" }, fmtDay(e.createdAt)));
      e.el = buildRow(e, prev && !prev.greeting ? prev : null);
      nodes.push(e.el);
      prev = e;
    });
    UI.log.replaceChildren.apply(UI.log, nodes);
    S.lastRendered = prev;
    renderPending();
    renderQuickReplies();
  }

  // Append one history entry when it sorts last; otherwise rebuild.
  function renderEntry(e) {
    var last = S.entries.reduce(function (m, x) {
      return x !== e && x.key > m ? x.key : m;
    }, -Infinity);
    if (e.key < last || !S.lastRendered) return renderAll();
    var prev = S.lastRendered;
    if (dayKey(prev.createdAt) !== dayKey(e.createdAt)) UI.log.appendChild(el("div", { class: "day" }, fmtDay(e.createdAt)));
    e.el = buildRow(e, prev.greeting ? null : prev);
    UI.log.appendChild(e.el);
    S.lastRendered = e;
    renderQuickReplies();
  }

  function renderPending() {
    var nodes = S.outbox.map(function (o) {
      return buildRow(o, null);
    });
    UI.pending.replaceChildren.apply(UI.pending, nodes);
    renderQuickReplies();
  }

  function renderQuickReplies() {
    var last = null;
    for (var i = 0; i < S.entries.length; i++) if (!last || S.entries[i].key > last.key) last = S.entries[i];
    var buttons = last && (last.sender === "bot" || last.sender === "agent") && !S.outbox.length ? last.buttons || [] : [];
    UI.qr.replaceChildren();
    buttons.forEach(function (b) {
      if (!b || b.payload == null) return;
      var title = String(b.title != null ? b.title : b.payload);
      UI.qr.appendChild(el("button", { type: "button", "data-payload": String(b.payload), onclick: function () { quickReply(b); } }, title));
    });
    UI.qr.hidden = !UI.qr.childNodes.length;
  }

  function nearBottom() {
    var s = UI.scroll;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }
  function scrollToBottom(force) {
    if (!UI.scroll) return;
    if (force || S.stick) {
      UI.scroll.scrollTop = UI.scroll.scrollHeight;
    }
  }

  // ---------------------------------------------------------------- incoming events
  function addHistory(m) {
    var seq = +m.seq;
    if (!seq || S.bySeq[seq]) return false; // de-dup by seq
    var sender = ["customer", "bot", "agent", "system"].indexOf(m.sender_type) >= 0 ? m.sender_type : "bot";
    var buttons = Array.isArray(m.buttons) ? m.buttons : [];
    buttons.forEach(function (b) {
      if (b && b.payload != null && b.title != null) S.payloadTitles[String(b.payload)] = String(b.title);
    });
    // A message of ours that another path (ack, other tab) already placed: adopt it.
    if (sender === "customer") {
      var idx = -1;
      for (var i = 0; i < S.outbox.length; i++) {
        var o = S.outbox[i];
        if ((m.client_id && o.client_id === m.client_id) || (!m.client_id && o.state !== "failed" && o.text === m.text)) {
          idx = i;
          break;
        }
      }
      if (idx >= 0) {
        var done = S.outbox.splice(idx, 1)[0];
        S.settled[done.client_id] = seq;
        saveOutbox();
        if (done.display && done.display !== done.text) S.payloadTitles[done.text] = done.display;
      }
    }
    var entry = {
      key: seq,
      seq: seq,
      sender: sender,
      text: m.text == null ? "" : String(m.text),
      buttons: buttons,
      attachments: Array.isArray(m.attachments) ? m.attachments : [],
      createdAt: parseDate(m.created_at),
    };
    S.bySeq[seq] = entry;
    S.entries.push(entry);
    if (seq > S.maxSeq) S.maxSeq = seq;
    if (sender === S.typing.who || (sender !== "customer" && S.typing.who)) setTyping(null, false);
    return true;
  }

  function addLocalNote(text, isError) {
    // The same note again within a few seconds (e.g. several messages rate-limited at once): once is enough.
    var lastNote = S.entries[S.entries.length - 1];
    if (lastNote && lastNote.local && lastNote.text === text && Date.now() - lastNote.createdAt < 10000) return;
    var entry = {
      key: S.maxSeq + 0.5 + S.entries.length * 1e-6,
      seq: 0,
      sender: "system",
      text: text,
      buttons: [],
      attachments: [],
      createdAt: new Date(),
      local: true,
      error: !!isError,
    };
    S.entries.push(entry);
    renderEntry(entry);
    scrollToBottom(true);
  }

  var replaying = false;
  function onEvent(ev) {
    S.lastRx = Date.now();
    switch (ev.type) {
      case "welcome":
        if (S.conversationId != null && ev.conversation_id != null && ev.conversation_id !== S.conversationId) {
          // The old conversation was resolved and a new one began: its seqs start afresh.
          resetConversation(true);
          hideRating();
        }
        S.connected = true;
        S.everConnected = true;
        S.attempts = 0;
        S.conversationId = ev.conversation_id;
        S.serverLang = ev.lang || null;
        S.status = ev.status || null;
        if (!setAvailability(ev.availability)) {
          S.online = ev.online !== false; // a server without "availability": as it is now, until the next welcome
          S.offlineMessage = ev.offline_message || null;
        }
        clearTimeout(connShownTimer);
        connShownTimer = null;
        renderStatus();
        renderConn();
        UI.log.setAttribute("aria-busy", "true");
        replaying = true;
        setTimeout(function () {
          replaying = false;
          UI.log.removeAttribute("aria-busy");
        }, 400);
        flush();
        if (S.rating === null && ev.rating_requested) showRating();
        break;
      case "message": {
        var stick = S.open && nearBottom();
        if (addHistory(ev)) {
          var e = S.bySeq[+ev.seq];
          renderEntry(e);
          renderPending();
          if (e.sender === "customer" || stick || replaying) scrollToBottom(true);
          if (S.open) markSeen();
          else renderLauncherLabel();
        }
        break;
      }
      case "ack": {
        var seq = +ev.seq;
        for (var i = 0; i < S.outbox.length; i++) {
          var o = S.outbox[i];
          if (o.client_id === ev.client_id) {
            S.outbox.splice(i, 1);
            saveOutbox();
            if (o.display && o.display !== o.text) S.payloadTitles[o.text] = o.display;
            if (seq && !S.bySeq[seq]) {
              addHistory({ seq: seq, sender_type: "customer", text: o.text, attachments: o.attachments, created_at: o.createdAt.toISOString() });
              renderEntry(S.bySeq[seq]);
            }
            renderPending();
            break;
          }
        }
        S.settled[ev.client_id] = seq;
        break;
      }
      case "typing":
        setTyping(ev.who === "agent" ? "agent" : "bot", ev.on !== false);
        break;
      case "status":
        S.status = ev.status || S.status;
        if (ev.rating_requested) showRating();
        else if (ev.rating_requested === false && S.rating === "asked") hideRating();
        break;
      case "error": {
        if (ev.code === "invalid_prechat" && S.prechatDraft) {
          // Not a note in the chat: the form comes back with the entries, to be corrected.
          S.prechatRefused = {
            field: prechatFields().indexOf(ev.field) >= 0 ? ev.field : prechatFields()[0],
            message: ev.message ? String(ev.message) : null,
          };
          LS.remove(K.prechat + S.visitorId);
          S.prechatShown = false;
          showView();
          break;
        }
        if (ev.client_id) {
          for (var j = 0; j < S.outbox.length; j++) {
            if (S.outbox[j].client_id === ev.client_id) {
              S.outbox[j].state = "failed";
              saveOutbox();
              renderPending();
              break;
            }
          }
        }
        if (ev.message) addLocalNote(String(ev.message), true);
        break;
      }
      case "pong":
        break;
      default:
        break;
    }
  }

  function setTyping(who, on) {
    clearTimeout(S.typing.timer);
    if (!on || !who) {
      S.typing.who = null;
      UI.typing.hidden = true;
      return;
    }
    S.typing.who = who;
    UI.typing.lastChild.textContent = t(who === "agent" ? "typingAgent" : "typingBot") + "…";
    UI.typing.hidden = false;
    if (nearBottom()) scrollToBottom(true);
    S.typing.timer = setTimeout(function () {
      setTyping(null, false);
    }, 20000);
  }

  // ---------------------------------------------------------------- transport
  function saveOutbox() {
    LS.setJSON(
      K.outbox,
      S.outbox.filter(function (o) { return o.state !== "failed"; }).map(function (o) {
        return { client_id: o.client_id, text: o.text, display: o.display, attachments: o.attachments, attachment_ids: o.attachment_ids, created_at: o.createdAt.toISOString(), lang: o.lang };
      })
    );
  }
  function loadOutbox() {
    var saved = LS.getJSON(K.outbox, []);
    if (!Array.isArray(saved)) return;
    saved.forEach(function (o) {
      if (!o || typeof o.client_id !== "string" || S.settled[o.client_id]) return;
      if (S.outbox.some(function (x) { return x.client_id === o.client_id; })) return;
      S.outbox.push({
        client_id: o.client_id,
        text: String(o.text || ""),
        display: o.display,
        attachments: Array.isArray(o.attachments) ? o.attachments : [],
        attachment_ids: Array.isArray(o.attachment_ids) ? o.attachment_ids : [],
        createdAt: parseDate(o.created_at),
        sender: "customer",
        state: "pending",
        lang: o.lang,
      });
    });
  }
  S.settled = {};

  function rawSend(frame) {
    if (!S.ws || S.ws.readyState !== 1) return false;
    try {
      S.ws.send(JSON.stringify(frame));
      return true;
    } catch (e) {
      return false;
    }
  }
  function messageFrame(o) {
    var f = { type: "message", client_id: o.client_id, text: o.text, lang: o.lang || S.lang };
    if (o.attachment_ids && o.attachment_ids.length) f.attachments = o.attachment_ids;
    S.serverLang = f.lang; // the server adopts a message's language for its notes
    return f;
  }
  function flush() {
    if (!S.connected) return;
    while (S.control.length) {
      if (!rawSend(S.control[0])) return;
      S.control.shift();
    }
    S.outbox.forEach(function (o) {
      if (o.state === "pending") rawSend(messageFrame(o));
    });
  }
  function sendControl(frame) {
    S.control.push(frame);
    flush();
  }

  function postSession() {
    return fetch(endpoint("widget/session"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: S.token || null, lang: S.lang }),
      credentials: "omit",
      mode: "cors",
    }).then(function (r) {
      if (r.status === 403) {
        var err = new Error("origin not allowed");
        err.blocked = true;
        throw err;
      }
      if (!r.ok) throw new Error("session " + r.status);
      return r.json();
    }).then(function (data) {
      if (!data || typeof data.token !== "string") throw new Error("bad session");
      if (data.token !== S.token) {
        if (S.token) resetConversation(); // a new visitor: nothing of the old one applies
        S.token = data.token;
        LS.set(K.token, data.token);
      }
      S.visitorId = data.visitor_id || data.token.split(".")[0];
      if (data.config) {
        S.rawConfig = data.config;
        LS.setJSON(K.config, data.config);
        S.config = normalizeConfig(data.config);
        if (!setAvailability(data.config.availability) && !S.everConnected) {
          S.online = S.config.online;
          S.offlineMessage = S.config.offlineMessage;
        }
        applyTheme();
        UI.logoImg.src = S.config.logo;
        i18n.forEach(function (fn) { fn(); });
        renderAll();
      }
      S.hasSession = true;
    });
  }

  function resetConversation(keepOutbox) {
    S.entries = [];
    S.bySeq = {};
    S.maxSeq = 0;
    if (!keepOutbox) S.outbox = S.outbox.filter(function (o) { return o.state === "pending"; });
    LS.remove(K.seen);
    if (UI.log) renderAll();
  }

  var starting = null;
  function start() {
    // Idempotent: a session (config, token) and then a live connection.
    if (S.blocked) return Promise.resolve();
    if (S.hasSession) {
      if (wantsConnection()) connect();
      return Promise.resolve();
    }
    if (starting) return starting;
    starting = postSession()
      .then(function () {
        starting = null;
        if (S.open) showView();
        if (wantsConnection()) connect();
      })
      .catch(function (err) {
        starting = null;
        if (err && err.blocked) {
          S.blocked = true;
          renderConn();
          showView();
          return;
        }
        scheduleReconnect(); // server unreachable: try again later
      });
    return starting;
  }

  // A first-time visitor gets the config (and a token) on page load, but opens a
  // connection, and with it a conversation, only once they open the chat.
  function wantsConnection() {
    return S.open || !!LS.get(K.active) || S.outbox.length > 0;
  }

  function connect() {
    if (S.ws || S.blocked || !S.token) return;
    clearTimeout(S.reconnectTimer);
    S.reconnectTimer = null;
    var url = new URL(WS_BASE.href);
    url.searchParams.set("token", S.token);
    var ws;
    try {
      ws = new WebSocket(url.href);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    S.ws = ws;
    ws.onopen = function () {
      S.lastRx = Date.now();
      var hello = { type: "hello", last_seq: S.maxSeq, lang: S.lang };
      if (S.conversationId != null) hello.conversation_id = S.conversationId;
      rawSend(hello);
    };
    ws.onmessage = function (e) {
      var ev;
      try {
        ev = JSON.parse(e.data);
      } catch (x) {
        return;
      }
      if (ev && typeof ev === "object") onEvent(ev);
    };
    ws.onclose = function (e) {
      if (S.ws !== ws) return;
      S.ws = null;
      var wasConnected = S.connected;
      S.connected = false;
      setTyping(null, false);
      if (wasConnected && !connShownTimer) {
        connShownTimer = setTimeout(function () {
          connShownTimer = "shown";
          renderConn();
        }, 1500);
      }
      if (e.code === 4401) {
        // The token is no longer valid (e.g. the secret key changed): start over.
        S.token = null;
        S.hasSession = false;
        LS.remove(K.token);
        scheduleReconnect(true);
      } else if (e.code === 4403) {
        S.blocked = true;
        renderConn();
      } else {
        scheduleReconnect();
      }
    };
  }

  function scheduleReconnect(newSession) {
    if (S.reconnectTimer || S.blocked) return;
    var n = S.attempts++;
    var base = Math.min(10000, 400 * Math.pow(2, n));
    var delay = Math.round(base / 2 + Math.random() * (base / 2)); // exponential backoff with jitter
    S.reconnectTimer = setTimeout(function () {
      S.reconnectTimer = null;
      if (newSession || !S.hasSession) start();
      else connect();
    }, delay);
  }

  function reconnectNow() {
    if (S.ws || S.blocked) return;
    if (S.reconnectTimer) {
      clearTimeout(S.reconnectTimer);
      S.reconnectTimer = null;
    }
    S.attempts = 0;
    if (S.hasSession) connect();
    else if (S.token || S.open) start();
  }

  setInterval(function () {
    if (!S.ws || S.ws.readyState !== 1) return;
    if (Date.now() - S.lastRx > 50000) {
      try {
        S.ws.close(4000, "stale"); // half-open connection: onclose reconnects
      } catch (e) {
        /* ignore */
      }
      return;
    }
    rawSend({ type: "ping" });
  }, 20000);
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      reconnectNow();
      followHours(); // timers of a hidden tab or a sleeping computer run late
    }
  });

  // Other tabs of this visitor: the same token, language and outbox.
  window.addEventListener("storage", function (e) {
    if (e.key === K.token && e.newValue && e.newValue !== S.token) {
      S.token = e.newValue;
      S.hasSession = false;
      resetConversation();
      if (S.ws) S.ws.close();
      else start();
    } else if (e.key === K.lang && (e.newValue === "id" || e.newValue === "en") && e.newValue !== S.lang) {
      setLang(e.newValue, true);
    } else if (e.key === K.seen) {
      renderLauncherLabel(); // read in another tab
    } else if (e.key === K.outbox) {
      var ids = (LS.getJSON(K.outbox, []) || []).map(function (o) { return o && o.client_id; });
      var before = S.outbox.length;
      S.outbox = S.outbox.filter(function (o) { return o.state === "failed" || ids.indexOf(o.client_id) >= 0; });
      loadOutbox();
      if (S.outbox.length !== before || ids.length) renderPending();
    }
  });

  // ---------------------------------------------------------------- sending
  function enqueue(text, display, upload) {
    var o = {
      client_id: uuid(),
      text: text,
      display: display && display !== text ? display : undefined,
      attachments: upload ? [{ kind: "image", url: upload.url, name: upload.name }] : [],
      attachment_ids: upload ? [upload.id] : [],
      createdAt: new Date(),
      sender: "customer",
      state: "pending",
      lang: S.lang,
    };
    if (o.display) S.payloadTitles[text] = o.display;
    S.outbox.push(o);
    saveOutbox();
    renderPending();
    scrollToBottom(true);
    if (S.connected) rawSend(messageFrame(o));
    else start();
    return o;
  }

  function retry(clientId) {
    for (var i = 0; i < S.outbox.length; i++) {
      var o = S.outbox[i];
      if (o.client_id === clientId) {
        o.state = "pending";
        saveOutbox();
        renderPending();
        if (S.connected) rawSend(messageFrame(o));
        else start();
      }
    }
  }

  function quickReply(b) {
    enqueue(String(b.payload), String(b.title != null ? b.title : b.payload));
    UI.input.focus();
  }

  function sendFromComposer() {
    var text = UI.input.value.replace(/^\s+|\s+$/g, "");
    var up = S.upload;
    if (up && up.state === "uploading") return;
    var ready = up && up.state === "ready" ? up.result : null;
    if (!text && !ready) return;
    if (text.length > S.config.maxText) {
      addLocalNote(t("tooLong", { n: S.config.maxText }), true);
      return;
    }
    enqueue(text, null, ready);
    UI.input.value = "";
    if (ready) clearUpload();
    autosize();
    renderCount();
    updateSendState();
  }

  function onInputKey(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      sendFromComposer();
    }
  }
  function onInput() {
    autosize();
    renderCount();
    updateSendState();
    var now = Date.now();
    if (UI.input.value && S.connected && now - S.lastTypingSent > 3000) {
      S.lastTypingSent = now;
      rawSend({ type: "typing" });
    }
  }
  function autosize() {
    UI.input.style.height = "auto";
    UI.input.style.height = Math.min(120, Math.max(40, UI.input.scrollHeight)) + "px";
  }
  var COUNT_NEAR = 20; // characters left
  var countLevel = "";
  function renderCount() {
    if (!UI.count) return;
    var left = S.config.maxText - UI.input.value.length;
    var text = "";
    if (left < 0) text = left === -1 ? t("charOver") : t("charsOver", { n: -left });
    else if (left <= 200) text = left === 1 ? t("charLeft") : t("charsLeft", { n: left });
    UI.count.textContent = text;
    UI.count.classList.toggle("warn", left < 0);
    // Said once when the message gets close to the limit and once when it goes over; the
    // keystrokes in between are silent (the box's description still has the number).
    var level = left < 0 ? "over" : left <= COUNT_NEAR ? "near" : "";
    if (level !== countLevel) {
      countLevel = level;
      UI.countLive.textContent = level ? text : "";
    }
  }
  function updateSendState() {
    var up = S.upload;
    var hasText = UI.input.value.trim().length > 0;
    var ok = (hasText || (up && up.state === "ready")) && !(up && up.state === "uploading") && UI.input.value.length <= S.config.maxText;
    UI.sendBtn.disabled = !ok;
  }

  // ---------------------------------------------------------------- uploads
  function sniffImage(file) {
    // The first bytes tell what the file really is, whatever its name says.
    return file.slice(0, 12).arrayBuffer().then(function (buf) {
      var b = new Uint8Array(buf);
      var s = String.fromCharCode.apply(null, Array.prototype.slice.call(b));
      if (b[0] === 0x89 && s.slice(1, 4) === "PNG") return "image/png";
      if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
      if (s.slice(0, 4) === "GIF8") return "image/gif";
      if (s.slice(0, 4) === "RIFF" && s.slice(8, 12) === "WEBP") return "image/webp";
      return null;
    });
  }

  // The upload limit as a person reads it, rounded down so a file "within" it is never refused:
  // 5242880 → "5 MB", 1500000 → "1,4 MB" / "1.4 MB", 300000 → "292 KB".
  function sizeText(bytes) {
    if (bytes < 1048576) return Math.max(1, Math.floor(bytes / 1024)) + " KB";
    var mb = Math.floor((bytes / 1048576) * 10) / 10;
    return (S.lang === "id" ? String(mb).replace(".", ",") : String(mb)) + " MB";
  }

  function onFileChosen() {
    var file = UI.file.files && UI.file.files[0];
    UI.file.value = "";
    if (!file) return;
    if (file.size > S.config.maxUpload) {
      addLocalNote(t("tooBig", { size: sizeText(S.config.maxUpload) }), true);
      return;
    }
    if (file.type && DEFAULTS.imageTypes.indexOf(file.type) < 0) {
      addLocalNote(t("badType"), true);
      return;
    }
    sniffImage(file).then(function (kind) {
      if (!kind) {
        addLocalNote(t("badType"), true);
        return;
      }
      clearUpload();
      var up = { file: file, previewUrl: URL.createObjectURL(file), state: "uploading", result: null };
      S.upload = up;
      UI.previewImg.src = up.previewUrl;
      UI.previewImg.alt = file.name;
      UI.previewName.textContent = file.name;
      UI.previewState.textContent = t("uploading");
      UI.preview.hidden = false;
      updateSendState();
      upload(up);
    });
  }

  function upload(up) {
    var go = S.token ? Promise.resolve() : start();
    go.then(function () {
      var url = endpoint("widget/upload");
      url.searchParams.set("token", S.token || "");
      var form = new FormData();
      form.append("file", up.file, up.file.name);
      return fetch(url, { method: "POST", body: form, credentials: "omit" });
    }).then(function (r) {
      if (S.upload !== up) return;
      if (r.status === 413) throw new Error("tooBig");
      if (r.status === 415) throw new Error("badType");
      if (!r.ok) throw new Error("uploadFailed");
      return r.json().then(function (data) {
        if (S.upload !== up) return;
        up.state = "ready";
        up.result = { id: data.id, url: data.url, name: data.name || up.file.name };
        UI.previewState.textContent = "";
        updateSendState();
      });
    }).catch(function (err) {
      if (S.upload !== up) return;
      var key = err && (err.message === "tooBig" || err.message === "badType") ? err.message : "uploadFailed";
      clearUpload();
      addLocalNote(t(key, { size: sizeText(S.config.maxUpload) }), true);
    });
  }

  function clearUpload() {
    if (S.upload && S.upload.previewUrl) {
      var u = S.upload.previewUrl;
      setTimeout(function () { URL.revokeObjectURL(u); }, 60000);
    }
    S.upload = null;
    UI.preview.hidden = true;
    UI.previewImg.removeAttribute("src");
    updateSendState();
  }

  // ---------------------------------------------------------------- pre-chat form
  function prechatFields() {
    var p = S.config.prechat;
    return ["name", "email", "phone"].filter(function (f) {
      return p[f] === "optional" || p[f] === "required";
    });
  }
  function needsPrechat() {
    if (!S.hasSession || !prechatFields().length) return false;
    if (S.prechatRefused) return true;
    if (LS.get(K.prechat + S.visitorId)) return false;
    // A returning visitor who already chatted is not asked again.
    return !S.entries.some(function (e) { return e.sender === "customer"; }) && !S.outbox.length;
  }
  function validate(field, value, mode) {
    value = value.trim();
    if (!value) return mode === "required" ? t("required") : "";
    if (field === "name" && value.length > 100) return t("invalidName");
    if (field === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/.test(value)) return t("invalidEmail");
    if (field === "phone") {
      // The server takes Indonesian mobile numbers only (08…, 62 8…, +62 8…).
      var digits = value.replace(/[\s\-().]/g, "");
      if (!/^(\+?62|0)8\d{7,11}$/.test(digits)) return t("invalidPhone");
    }
    return "";
  }
  // Why the server refused a field: its own words (texts.yml may override them) when it
  // speaks the widget's language, otherwise ours.
  function refusal(field, value, mode, serverText) {
    if (serverText && S.serverLang === S.lang) return serverText;
    var msg = validate(field, value, mode);
    if (msg) return msg;
    return t(field === "email" ? "invalidEmail" : field === "phone" ? "invalidPhone" : "invalidName");
  }
  function renderPrechat() {
    var fields = prechatFields();
    var anyRequired = fields.some(function (f) { return S.config.prechat[f] === "required"; });
    var inputs = {};
    var form = el("form", { novalidate: true, "aria-labelledby": "sapa-prechat-title" },
      el("h3", { id: "sapa-prechat-title" }, t("prechatTitle")),
      el("p", null, t("prechatIntro")));
    fields.forEach(function (f) {
      var mode = S.config.prechat[f];
      var id = "sapa-pc-" + f;
      var err = el("div", { class: "ferr", id: id + "-err", "aria-live": "polite" });
      var input = el("input", {
        id: id,
        name: f,
        type: f === "email" ? "email" : f === "phone" ? "tel" : "text",
        autocomplete: f === "name" ? "name" : f === "email" ? "email" : "tel",
        inputmode: f === "phone" ? "tel" : f === "email" ? "email" : null,
        placeholder: t(f + "Ph"),
        "aria-required": mode === "required" ? "true" : "false",
        "aria-describedby": id + "-err",
        maxlength: f === "name" ? "100" : "254",
      });
      input.addEventListener("input", function () {
        if (input.getAttribute("aria-invalid") === "true") {
          var msg = validate(f, input.value, mode);
          err.textContent = msg;
          input.setAttribute("aria-invalid", msg ? "true" : "false");
        }
      });
      inputs[f] = { input: input, err: err, mode: mode };
      if (S.prechatDraft && S.prechatDraft[f]) input.value = S.prechatDraft[f];
      if (S.prechatRefused && S.prechatRefused.field === f) {
        err.textContent = refusal(f, input.value, mode, S.prechatRefused.message);
        input.setAttribute("aria-invalid", "true");
      }
      form.appendChild(el("div", { class: "field" },
        el("label", { for: id }, t(f), mode === "optional" ? el("span", { class: "opt" }, " (" + t("optional") + ")") : null),
        input, err));
    });
    var actions = el("div", { class: "actions" }, el("button", { class: "primary", type: "submit" }, t("start")));
    if (!anyRequired) actions.appendChild(el("button", { class: "link skip", type: "button", onclick: function () { finishPrechat(null); } }, t("skip")));
    form.appendChild(actions);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var firstBad = null;
      var data = {};
      fields.forEach(function (f) {
        var it = inputs[f];
        var msg = validate(f, it.input.value, it.mode);
        it.err.textContent = msg;
        it.input.setAttribute("aria-invalid", msg ? "true" : "false");
        if (msg && !firstBad) firstBad = it.input;
        data[f] = it.input.value.trim();
      });
      if (firstBad) {
        firstBad.focus();
        return;
      }
      finishPrechat(data);
    });
    UI.prechat.replaceChildren(form);
  }
  function finishPrechat(data) {
    S.prechatDraft = data;
    S.prechatRefused = null;
    if (data) {
      sendControl({ type: "prechat", name: data.name || "", email: data.email || "", phone: data.phone || "" });
    }
    LS.set(K.prechat + S.visitorId, data ? "sent" : "skipped");
    showView();
    UI.input.focus();
  }

  // ---------------------------------------------------------------- rating
  function showRating() {
    if (S.conversationId && LS.get(K.rated + S.conversationId)) return;
    if (S.rating === "asked") return;
    S.rating = "asked";
    var score = 0;
    var label = el("div", { class: "star-label", "aria-live": "polite" });
    var stars = el("div", { class: "stars", role: "radiogroup", "aria-label": t("ratingTitle") });
    var btns = [];
    function paint(n) {
      btns.forEach(function (b, i) { b.classList.toggle("on", i < n); });
      label.textContent = n ? t("ratingLabels")[n - 1] : "";
    }
    for (var i = 1; i <= 5; i++) {
      (function (n) {
        var b = el("button", { type: "button", role: "radio", "aria-checked": "false", "aria-label": t("ratingStar", { n: n }), "data-score": String(n), tabindex: n === 1 ? "0" : "-1" }, icon("star", 30));
        b.addEventListener("click", function () {
          score = n;
          btns.forEach(function (x, j) {
            x.setAttribute("aria-checked", j === n - 1 ? "true" : "false");
            x.tabIndex = j === n - 1 ? 0 : -1;
          });
          paint(n);
          submit.disabled = false;
        });
        b.addEventListener("mouseenter", function () { paint(n); });
        b.addEventListener("mouseleave", function () { paint(score); });
        b.addEventListener("keydown", function (e) {
          var d = e.key === "ArrowRight" || e.key === "ArrowUp" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowDown" ? -1 : 0;
          if (!d) return;
          e.preventDefault();
          var next = btns[Math.min(4, Math.max(0, n - 1 + d))];
          next.focus();
          next.click();
        });
        btns.push(b);
        stars.appendChild(b);
      })(i);
    }
    var comment = el("textarea", { maxlength: "1000", "aria-label": t("ratingComment"), placeholder: t("ratingComment") });
    var submit = el("button", { class: "primary", type: "button", disabled: true }, t("ratingSubmit"));
    submit.addEventListener("click", function () {
      if (!score) return;
      var frame = { type: "rating", score: score };
      var c = comment.value.trim();
      if (c) frame.comment = c.slice(0, 1000);
      sendControl(frame);
      if (S.conversationId) LS.set(K.rated + S.conversationId, String(score));
      S.rating = "done";
      UI.rating.replaceChildren(el("p", { class: "thanks", role: "status" }, t("ratingThanks")));
      setTimeout(function () { if (S.rating === "done") UI.rating.hidden = true; }, 8000);
    });
    UI.rating.replaceChildren(el("h3", null, localized(S.config.csatQuestion) || t("ratingTitle")), stars, label, comment, submit);
    UI.rating.hidden = false;
    scrollToBottom(true);
  }
  function hideRating() {
    S.rating = null;
    UI.rating.hidden = true;
    UI.rating.replaceChildren();
  }

  // ---------------------------------------------------------------- open / close / views
  var mobileQuery = window.matchMedia ? window.matchMedia("(max-width: 480px), (max-height: 500px)") : null;
  var savedOverflow = null;

  function showView() {
    if (!UI.body) return;
    var loading = !S.hasSession && !S.blocked;
    var pre = !loading && !S.blocked && needsPrechat();
    UI.loading.hidden = !loading;
    UI.prechat.hidden = !pre;
    UI.scroll.hidden = loading || pre;
    UI.composer.hidden = loading || pre || S.blocked;
    if (pre && !S.prechatShown) {
      S.prechatShown = true;
      renderPrechat();
      var f = UI.prechat.querySelector("[aria-invalid=true]") || UI.prechat.querySelector("input");
      if (f && S.open) f.focus();
    }
    if (!pre && !loading && S.open && UI.shadow.activeElement == null) UI.input.focus();
    if (!pre && !loading && !S.blocked) flushPendingSend();
  }

  // SapaWidget.send(): the page asked the chat to do something (e.g. the help centre's
  // "Cek posisi paket" button). Sent as a quick reply would be, but only after the session
  // exists and the pre-chat form is done, so the shop still learns who is asking.
  function send(text, display) {
    if (typeof text !== "string" || !text.replace(/\s+/g, "")) return;
    S.pendingSend = { text: text, display: display != null ? String(display) : null };
    if (S.open) showView();
    else open();
  }
  function flushPendingSend() {
    var p = S.pendingSend;
    if (!p) return;
    S.pendingSend = null;
    enqueue(p.text, p.display);
  }

  function open() {
    if (S.open) return;
    S.open = true;
    SS.set(K.open, "1");
    LS.set(K.active, "1");
    UI.root.classList.add("is-open");
    // On a phone the window covers the page (and keeps Tab inside): a modal dialog for screen
    // readers too, so they do not wander into the page hidden behind it.
    UI.win.setAttribute("aria-modal", mobileQuery && mobileQuery.matches ? "true" : "false");
    if (mobileQuery && mobileQuery.matches) {
      savedOverflow = document.documentElement.style.overflow;
      document.documentElement.style.overflow = "hidden";
    }
    showView();
    start();
    markSeen();
    S.stick = true;
    scrollToBottom(true);
    setTimeout(function () {
      var target = !UI.prechat.hidden ? UI.prechat.querySelector("input") : UI.input;
      if (target && !target.closest("[hidden]")) target.focus();
      scrollToBottom(true);
    }, 60);
  }
  function close(returnFocus) {
    if (!S.open) return;
    S.open = false;
    SS.remove(K.open);
    UI.root.classList.remove("is-open");
    if (savedOverflow !== null) {
      document.documentElement.style.overflow = savedOverflow;
      savedOverflow = null;
    }
    renderLauncherLabel();
    if (returnFocus !== false) UI.launcher.focus();
  }
  function toggle() {
    if (S.open) close(true);
    else open();
  }

  function onWindowKey(e) {
    if (e.key === "Escape") {
      e.stopPropagation();
      e.preventDefault();
      close(true);
      return;
    }
    // Full-screen on a phone the window is modal: keep Tab inside it.
    if (e.key === "Tab" && mobileQuery && mobileQuery.matches) {
      var focusables = Array.prototype.filter.call(
        UI.win.querySelectorAll("button, a[href], input, textarea, [tabindex='0']"),
        function (n) { return !n.disabled && !n.closest("[hidden]") && n.offsetParent !== null; }
      );
      if (!focusables.length) return;
      var firstEl = focusables[0],
        lastEl = focusables[focusables.length - 1];
      var active = UI.shadow.activeElement;
      if (e.shiftKey && active === firstEl) {
        e.preventDefault();
        lastEl.focus();
      } else if (!e.shiftKey && active === lastEl) {
        e.preventDefault();
        firstEl.focus();
      }
    }
  }

  function setLang(lang, fromOtherTab) {
    if (lang !== "id" && lang !== "en") return;
    S.lang = lang;
    if (!fromOtherTab) LS.set(K.lang, lang);
    i18n.forEach(function (fn) { fn(); });
    if (S.rating === "asked") {
      S.rating = null;
      showRating();
    }
    if (!UI.prechat.hidden) {
      // The form is redrawn in the new language: keep what was typed in it.
      var typed = {};
      Array.prototype.forEach.call(UI.prechat.querySelectorAll("input[name]"), function (input) {
        typed[input.name] = input.value;
      });
      S.prechatDraft = typed;
      S.prechatShown = false;
      showView();
    }
    renderAll();
    if (S.typing.who) setTyping(S.typing.who, true);
  }

  // ---------------------------------------------------------------- boot
  function boot() {
    build();
    UI.scroll.addEventListener("scroll", function () {
      S.stick = nearBottom();
    });
    loadOutbox();
    renderAll();
    showView();
    if (SS.get(K.open)) open();
    else start(); // config now; history and unread badge for a returning visitor
    window.SapaWidget = { open: open, close: close, toggle: toggle, setLang: setLang, send: send };
  }

  // Until boot (the document is still loading) calls wait for it.
  function later(name) {
    return function () {
      var args = arguments;
      setTimeout(function () { window.SapaWidget[name].apply(null, args); }, 0);
    };
  }
  window.SapaWidget = { open: later("open"), setLang: later("setLang"), send: later("send") };
  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot);
})();
