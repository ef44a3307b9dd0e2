"""The console's routes, all under ``/console/``.

Pages (HTML, login required; ``/console/admin/...`` also the admin role):

==========================================  ==============================================
``GET  /console/login``, ``POST``           the login form (rate-limited)
``POST /console/logout``                    end the session
``GET  /console/inbox``                     the inbox: ``view`` (mine | unassigned | teams |
                                            all), ``status``, ``channel``, ``category``,
                                            ``priority``, ``team``, ``q``, ``saved`` (a view id)
``POST /console/views``                     save the current filters as a named view;
                                            ``/console/views/{id}/delete``
``GET  /console/conversations/{id}``        history, customer, orders, tickets, notes, numbers
``POST /console/conversations/{id}/{act}``  take | reply | note | transfer | release |
                                            handback | resolve | status | fields
``GET  /console/admin/agents`` (+POST)      create accounts; ``/{id}``: role, active, name, teams
``GET  /console/admin/canned`` (+POST)      canned responses; ``/{id}``, ``/{id}/delete``
``GET  /console/admin/orders``              orders by status; ``/{number}``; ``POST
                                            /{number}/{verify-payment|reject-payment|ship|deliver|cancel}``
``GET  /console/admin/teams``               teams and categories (tickets.yml), members
``GET  /console/admin/reports``             averages over a date range
==========================================  ==============================================

JSON for the page's JavaScript: ``GET /console/api/inbox`` (the same filters),
``GET /console/api/conversations/{id}/messages?after=SEQ``, ``GET
/console/api/conversations/{id}/canned``, and every ``POST`` above answers JSON when
the request is JSON (``Content-Type: application/json``). ``GET /console/ws`` is the
live socket (:mod:`agent_console.live`).

Every POST needs the session's CSRF token (see :mod:`agent_console.auth`); plain HTML
forms work without JavaScript (they answer with a redirect).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable
from urllib.parse import quote, urlencode

import jinja2
from aiohttp import web

from agent_console import auth
from agent_console.live import message_json, row_json
from agent_console.service import (
    MAX_NOTE_CHARS,
    MAX_REPLY_CHARS,
    PLACEHOLDERS,
    Console,
    InvalidText,
    UnfilledPlaceholder,
    conversation_numbers,
    day_range,
    duration,
    note_json,
)
from agent_console.tickets import PRIORITY_LABELS
from bot import accounts
from bot.catalog import rupiah
from bot.httputil import BadRequest, read_form, read_json_object
from bot.orders.book import MAX_SEARCH, InvalidInput
from bot.orders.records import InvalidTransition, OrderNotFound, OrderStatus
from bot.runtime import Runtime
from bot.store import console_queries as cq
from bot.store.columns import MAX_ID, MAX_INT
from bot.store.sanitize import clean_text as clean_text_for_store

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
CONSOLE = web.AppKey("agent_console", Console)
MAX_BODY_BYTES = 64 * 1024
BASE = "/console"

STATUS_LABELS = {
    "bot": "Bot",
    "waiting_for_agent": "Menunggu agen",
    "with_agent": "Ditangani agen",
    "resolved": "Selesai",
}
STATUS_FILTERS = [
    ("people", "Perlu orang"),
    ("open", "Belum selesai"),
    ("waiting_for_agent", "Menunggu agen"),
    ("with_agent", "Ditangani agen"),
    ("bot", "Bot"),
    ("resolved", "Selesai"),
    ("any", "Semua status"),
]
VIEWS = [("mine", "Milik saya"), ("unassigned", "Belum ditangani"), ("teams", "Tim saya"), ("all", "Semua")]
CHANNELS = [("widget", "Widget web"), ("telegram", "Telegram"), ("rest", "REST")]
ORDER_STATUS_LABELS = {
    "pending_payment": "Menunggu pembayaran",
    "payment_submitted": "Konfirmasi pembayaran",
    "paid": "Dibayar",
    "shipped": "Dikirim",
    "delivered": "Sampai",
    "cancelled": "Dibatalkan",
}
PAYMENT_METHOD_LABELS = {"bank_transfer": "Transfer bank", "ewallet": "E-wallet"}
PAYMENT_VERDICT_LABELS = {"verified": "diterima", "rejected": "ditolak"}
# Who changed an order: the customer in the chat, the unpaid-order sweep, or "admin:rina" /
# "cli:budi" (kept as written: the username is what the admin needs).
ORDER_ACTOR_LABELS = {"customer": "pelanggan", "system": "sistem"}
TICKET_STATUS_LABELS = {"open": "terbuka", "pending": "menunggu pelanggan", "resolved": "selesai", "closed": "ditutup"}
ACTION_LABELS = {
    "take_over": "mengambil alih",
    "transfer": "mengalihkan",
    "hand_back": "mengembalikan ke bot",
    "release": "mengembalikan ke antrean",
    "resolve": "menyelesaikan",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


# -- wiring ------------------------------------------------------------------------------


def install(app: web.Application, runtime: Runtime) -> Console:
    """Create the console for a running bot (its lifecycle is :func:`setup`'s)."""
    console = Console(runtime)
    app[CONSOLE] = console
    return console


def setup(app: web.Application, runtime_key: web.AppKey[Runtime]) -> None:
    """Routes, security headers and the console's life cycle (after the runtime's)."""
    add_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        console = install(app, app[runtime_key])
        await console.start()
        try:
            yield
        finally:
            await console.stop()

    app.cleanup_ctx.append(lifecycle)
    app.on_response_prepare.append(_security_headers)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path == BASE or request.path.startswith(BASE + "/"):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith(BASE + "/static/"):
            response.headers["Cache-Control"] = "no-cache"


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(BASE, _to_inbox)
    r.add_get(BASE + "/", _to_inbox)
    r.add_get(BASE + "/login", login_page)
    r.add_post(BASE + "/login", login_submit)
    r.add_post(BASE + "/logout", _action(logout))
    r.add_get(BASE + "/static/{name}", static)
    r.add_get(BASE + "/ws", websocket)
    r.add_get(BASE + "/inbox", _page(inbox_page))
    r.add_get(BASE + "/api/inbox", _api(inbox_api))
    r.add_post(BASE + "/views", _action(save_view))
    r.add_post(BASE + "/views/{id:\\d+}/delete", _action(delete_view))
    r.add_get(BASE + "/conversations/{id:\\d+}", _page(conversation_page))
    r.add_get(BASE + "/api/conversations/{id:\\d+}/messages", _api(messages_api))
    r.add_get(BASE + "/api/conversations/{id:\\d+}/canned", _api(canned_api))
    r.add_post(BASE + "/conversations/{id:\\d+}/{act}", _action(conversation_action))
    r.add_get(BASE + "/admin", _page(_to_agents, admin=True))
    r.add_get(BASE + "/admin/", _page(_to_agents, admin=True))
    r.add_get(BASE + "/admin/agents", _page(agents_page, admin=True))
    r.add_post(BASE + "/admin/agents", _action(create_agent, admin=True))
    r.add_post(BASE + "/admin/agents/{id:\\d+}", _action(update_agent, admin=True))
    r.add_get(BASE + "/admin/canned", _page(canned_page, admin=True))
    r.add_post(BASE + "/admin/canned", _action(save_canned, admin=True))
    r.add_post(BASE + "/admin/canned/{id:\\d+}", _action(save_canned, admin=True))
    r.add_post(BASE + "/admin/canned/{id:\\d+}/delete", _action(delete_canned, admin=True))
    r.add_get(BASE + "/admin/orders", _page(orders_page, admin=True))
    r.add_get(BASE + "/admin/orders/{number}", _page(order_page, admin=True))
    r.add_post(BASE + "/admin/orders/{number}/{act}", _action(order_action, admin=True))
    r.add_get(BASE + "/admin/teams", _page(teams_page, admin=True))
    r.add_get(BASE + "/admin/reports", _page(reports_page, admin=True))


# -- templates ----------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # every value is HTML-escaped: customer and agent text is shown as text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = duration
    env.filters["rupiah"] = rupiah
    env.filters["status_label"] = lambda s: STATUS_LABELS.get(s, s)
    env.filters["order_status_label"] = lambda s: ORDER_STATUS_LABELS.get(s, s)
    env.filters["channel_label"] = lambda s: dict(CHANNELS).get(s, s)
    env.filters["payment_method_label"] = lambda s: PAYMENT_METHOD_LABELS.get(s, s)
    env.filters["verdict_label"] = lambda s: PAYMENT_VERDICT_LABELS.get(s, s)
    env.filters["actor_label"] = lambda s: ORDER_ACTOR_LABELS.get(s, s)
    env.filters["action_label"] = lambda s: ACTION_LABELS.get(s, s)
    # The ticket desk's codes ("high", "open") in the console's language, as in its selects.
    env.filters["priority_label"] = lambda s: PRIORITY_LABELS.get(s, s)
    env.filters["ticket_status_label"] = lambda s: TICKET_STATUS_LABELS.get(s, s)
    return env


_ENV = _environment()


def render(
    request: web.Request, name: str, *, status: int = 200, session: cq.SessionRecord | None = None, **context: Any
) -> web.Response:
    console: Console = request.app[CONSOLE]

    # Numeric by default: strftime's %b is English ("Dec", "Aug") whatever the page's language.
    def when(at: datetime | None, fmt: str = "%d/%m/%Y %H.%M") -> str:
        local = console.local(at)
        return "—" if local is None else local.strftime(fmt)

    html = _ENV.get_template(name).render(
        session=session,
        me=session.agent if session else None,
        csrf=session.csrf_token if session else "",
        when=when,
        shop_name=console.shop_name,
        tz=console.settings.timezone,
        path=request.path,
        priority_labels=PRIORITY_LABELS,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


# -- guards --------------------------------------------------------------------------------

Handler = Callable[..., Awaitable[Any]]


def _wants_json(request: web.Request) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")


def _login_redirect(request: web.Request) -> web.Response:
    target = request.path_qs if request.method == "GET" else BASE + "/inbox"
    raise web.HTTPSeeOther(BASE + "/login?" + urlencode({"next": target}))


def _page(handler: Handler, *, admin: bool = False) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        console: Console = request.app[CONSOLE]
        session = await console.auth.current(request)
        if session is None:
            return _login_redirect(request)
        if admin and not session.agent.is_admin:
            return render(request, "error.html", status=403, session=session,
                          title="Khusus admin", message="Halaman ini hanya untuk admin.")
        return await handler(request, console, session)

    return wrapped


def _api(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        console: Console = request.app[CONSOLE]
        session = await console.auth.current(request)
        if session is None:
            return web.json_response({"error": "unauthorized", "message": "Log in first."}, status=401)
        try:
            return await handler(request, console, session)
        except cq.NotVisible:
            return web.json_response({"error": "not_visible", "message": "Not yours to see."}, status=403)

    return wrapped


class Done:
    """An action's outcome: JSON for scripts, a redirect for plain forms."""

    def __init__(self, redirect: str, data: dict[str, Any] | None = None, status: int = 200) -> None:
        self.redirect = redirect
        self.data = data or {"ok": True}
        self.status = status


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BadRequest(413, "payload_too_large", "Request body is too large.")
    if request.content_type == "application/json":
        try:
            data = await read_json_object(request, max_bytes=MAX_BODY_BYTES)
        except BadRequest as exc:
            if exc.code == "empty_body":
                return {}
            raise
        # JSON can spell lone surrogates ("\\ud800"; a form post cannot): made U+FFFD here,
        # as the customers' texts are, instead of failing deep in the database driver with
        # an English codec error shown to the agent (and the reply not sent).
        try:
            return _no_lone_surrogates(data)
        except RecursionError:  # nested almost as deep as the parser allows
            raise BadRequest(400, "invalid_json", "Request body is nested too deeply.") from None
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await read_form(request)
        return {k: form.getone(k) for k in form.keys()} | {k + "[]": form.getall(k) for k in form.keys()}
    if request.content_length:
        raise BadRequest(415, "unsupported_media_type", "Send a form or JSON.")
    return {}


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_no_lone_surrogates(k): _no_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_lone_surrogates(v) for v in value]
    return value


def _action(handler: Handler, *, admin: bool = False) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        console: Console = request.app[CONSOLE]
        wants_json = _wants_json(request)
        session = await console.auth.current(request)
        if session is None:
            if wants_json:
                return web.json_response({"error": "unauthorized", "message": "Log in first."}, status=401)
            return _login_redirect(request)
        body = await _body(request)
        if not auth.csrf_ok(request, session, body):
            log.warning("console: refused a request without a valid CSRF token: %s %s", request.method, request.path)
            if wants_json:
                return web.json_response({"error": "csrf", "message": "Missing or wrong CSRF token."}, status=403)
            return render(request, "error.html", status=403, session=session, title="Permintaan ditolak",
                          message="Formulir ini tidak sah atau sudah kedaluwarsa. Muat ulang halaman lalu coba lagi.")
        if admin and not session.agent.is_admin:
            if wants_json:
                return web.json_response({"error": "forbidden", "message": "This needs an admin account."}, status=403)
            return render(request, "error.html", status=403, session=session,
                          title="Khusus admin", message="Halaman ini hanya untuk admin.")
        try:
            done = await handler(request, console, session, body)
        except cq.NotVisible:
            return _failure(request, session, wants_json, 403, "not_visible", "Percakapan ini ditangani tim lain atau tidak ada.")
        except cq.ConsoleConflict as exc:
            return _failure(request, session, wants_json, 409, exc.code, _conflict_message(exc), **exc.info)
        except UnfilledPlaceholder as exc:
            names = ", ".join("{" + n + "}" for n in exc.names)
            return _failure(request, session, wants_json, 400, "unfilled_placeholder",
                            f"Isian {names} belum terisi untuk pelanggan ini. Ganti dengan teks yang benar, lalu kirim lagi.",
                            placeholders=exc.names)
        except InvalidText as exc:
            code = str(exc)
            message = "Pesan terlalu panjang." if code == "too_long" else "Teksnya masih kosong."
            return _failure(request, session, wants_json, 400, "invalid_text", message)
        except OrderNotFound:
            return _failure(request, session, wants_json, 404, "order_not_found", "Pesanan tidak ditemukan.")
        except InvalidTransition as exc:  # a ValueError too: before the catch-all below
            return _failure(request, session, wants_json, 409, "invalid_transition",
                            f"Status pesanan {ORDER_STATUS_LABELS.get(exc.status, exc.status)}: tidak bisa diubah begitu.",
                            status=exc.status)
        except accounts.AccountError as exc:
            return _failure(request, session, wants_json, 400, "invalid_field", account_error_message(exc),
                            field=getattr(exc, "field", None))
        except (InvalidInput, ValueError) as exc:
            return _failure(request, session, wants_json, 400, "invalid_field", str(exc),
                            field=getattr(exc, "field", None))
        if isinstance(done, web.StreamResponse):
            return done
        if wants_json:
            return web.json_response(done.data, status=done.status)
        raise web.HTTPSeeOther(done.redirect)

    return wrapped


def _failure(
    request: web.Request, session: cq.SessionRecord, wants_json: bool, http_status: int, code: str, message: str, **info: Any
) -> web.Response:
    if wants_json:
        return web.json_response({"error": code, "message": message, **info}, status=http_status)
    return render(request, "error.html", status=http_status, session=session, title="Tidak bisa", message=message,
                  back=request.headers.get("Referer") if _same_site_referer(request) else None)


# bot.accounts says why in English (for `sapa agent add`); the console says it in Indonesian.
ACCOUNT_ERRORS = {
    "bad_username": "Nama pengguna 2–64 karakter: huruf kecil, angka, '.', '_' atau '-', diawali huruf atau angka.",
    "bad_role": "Peran harus agen atau admin.",
    "long_display_name": "Nama tampilan paling banyak 255 karakter.",
    "empty_password": "Kata sandi wajib diisi.",
    "short_password": "Kata sandi terlalu pendek: minimal {min} karakter.",
    "long_password": "Kata sandi terlalu panjang: paling banyak {max} karakter.",
    "repetitive_password": "Kata sandi terlalu berulang; pakai lebih banyak macam karakter.",
    "common_password": "Kata sandi ini termasuk yang paling sering ditebak; pilih yang lain.",
    "password_has_username": "Kata sandi tidak boleh memuat nama pengguna.",
    "username_taken": "Nama pengguna {username} sudah dipakai.",
}


def account_error_message(exc: accounts.AccountError) -> str:
    template = ACCOUNT_ERRORS.get(getattr(exc, "code", ""))
    return template.format(**exc.params) if template else str(exc)


def _same_site_referer(request: web.Request) -> bool:
    referer = request.headers.get("Referer", "")
    # Browsers send it percent-encoded; bytes that are not UTF-8 (surrogates here) would fail
    # the error page that links back to it.
    return referer.isascii() and referer.startswith(f"{request.scheme}://{request.host}{BASE}/")


def _conflict_message(exc: cq.ConsoleConflict) -> str:
    return {
        "resolved": "Percakapan ini sudah selesai.",
        "held_by_other": "Percakapan ini sedang ditangani agen lain. Minta dialihkan dulu.",
        "unknown_agent": "Agen tujuan tidak ada atau tidak aktif.",
        "unknown_team": "Tim tujuan tidak dikenal.",
        "invalid_status": "Status tidak dikenal.",
        "invalid_category": "Kategori tidak dikenal.",
        "invalid_priority": "Prioritas tidak dikenal.",
        "duplicate": "Pintasan itu sudah dipakai.",
    }.get(exc.code, str(exc))


# -- login ---------------------------------------------------------------------------------


def _safe_next(value: Any) -> str:
    """Only a path inside the console (never another site) after logging in."""
    if isinstance(value, str) and value.startswith(BASE + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return BASE + "/inbox"


async def _to_inbox(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(BASE + "/inbox")


async def login_page(request: web.Request) -> web.StreamResponse:
    console: Console = request.app[CONSOLE]
    next_path = _safe_next(request.query.get("next"))
    if await console.auth.current(request) is not None:
        raise web.HTTPFound(next_path)
    # A session cookie the server no longer knows: the session ended (2 hours unused, 12 hours
    # old, the account deactivated) while the tab was open. Said, so the agent is not left
    # wondering why the console sent them here; logging out removes the cookie, so it is not
    # said then.
    expired = bool(request.cookies.get(auth.COOKIE))
    page = _login_form(request, console, next_path,
                       notice="Sesi Anda sudah berakhir. Silakan masuk lagi untuk melanjutkan." if expired else None)
    if expired:
        console.auth.clear_session_cookie(page, request)
    return page


def _login_form(
    request: web.Request, console: Console, next_path: str, error: str | None = None, username: str = "", status: int = 200,
    notice: str | None = None,
) -> web.Response:
    token = console.auth.login_token(request)
    page = render(request, "login.html", status=status, next=next_path, error=error, username=username, login_token=token,
                  notice=notice)
    console.auth.set_login_cookie(page, request, token)
    return page


async def login_submit(request: web.Request) -> web.StreamResponse:
    console: Console = request.app[CONSOLE]
    form: Any = {}
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise BadRequest(413, "payload_too_large", "Request body is too large.")
        form = await read_form(request)
    username = str(form.get("username") or "")[:256]
    password = str(form.get("password") or "")[:1024]
    next_path = _safe_next(form.get("next"))
    if not auth.origin_ok(request) or not auth.same_token(str(form.get(auth.CSRF_FIELD) or ""), request.cookies.get(auth.LOGIN_COOKIE)):
        return _login_form(request, console, next_path, "Formulir kedaluwarsa. Silakan coba masuk lagi.", username, 403)
    outcome = await console.auth.login(request, username, password)
    if isinstance(outcome, auth.LoginRefused):
        if outcome.status == 429:
            minutes = max(1, -(-outcome.wait_seconds // 60))
            message = f"Terlalu banyak percobaan masuk. Demi keamanan, coba lagi dalam {minutes} menit ya."
            page = _login_form(request, console, next_path, message, username, 429)
            page.headers["Retry-After"] = str(max(1, outcome.wait_seconds))
            return page
        return _login_form(request, console, next_path, "Nama pengguna atau kata sandi salah.", username, 401)
    _session, session_token = outcome
    response = web.HTTPSeeOther(next_path)
    console.auth.set_session_cookie(response, request, session_token)
    response.del_cookie(auth.LOGIN_COOKIE, path=auth.COOKIE_PATH)
    raise response


async def logout(request: web.Request, console: Console, session: cq.SessionRecord, body: dict[str, Any]) -> web.StreamResponse:
    await console.auth.logout(session)
    await console.hub.end_session(session.id)
    response: web.StreamResponse
    if _wants_json(request):
        response = web.json_response({"ok": True})
    else:
        response = web.HTTPSeeOther(BASE + "/login")
    console.auth.clear_session_cookie(response, request)
    return response


# -- static files and the socket ----------------------------------------------------------------

_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or "\\" in name or name.startswith(".") or path.suffix not in _STATIC_TYPES or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": _STATIC_TYPES[path.suffix]})


async def websocket(request: web.Request) -> web.StreamResponse:
    return await request.app[CONSOLE].hub.serve(request)


# -- the inbox ----------------------------------------------------------------------------------


def _filters(query: Any, saved: dict[str, Any] | None = None) -> cq.Filters:
    source = dict(saved or {})
    for key in ("view", "status", "channel", "category", "priority", "team", "q"):
        value = query.get(key)
        if isinstance(value, str) and value.strip():
            source[key] = value.strip()
    view = source.get("view") if source.get("view") in dict(VIEWS) else "all"
    status = source.get("status") if source.get("status") in dict(STATUS_FILTERS) else "people"

    def text(key: str, limit: int = 64) -> str | None:
        value = source.get(key)
        # These go into queries (and saved views' JSON): PostgreSQL refuses a NUL there.
        return clean_text_for_store(value[:limit]) if isinstance(value, str) and value else None

    return cq.Filters(
        view=view,
        status=status,
        channel=text("channel", 32),
        category=text("category"),
        priority=text("priority", 16),
        team=text("team"),
        q=text("q", 100),
    )


def filters_json(f: cq.Filters) -> dict[str, Any]:
    return {k: v for k, v in {
        "view": f.view, "status": f.status, "channel": f.channel, "category": f.category,
        "priority": f.priority, "team": f.team, "q": f.q,
    }.items() if v}


async def _saved_filters(request: web.Request, console: Console, session: cq.SessionRecord) -> tuple[list[cq.SavedViewRecord], cq.SavedViewRecord | None]:
    views = await console.store.read(cq.list_views, session.agent.id)
    chosen = None
    raw = request.query.get("saved")
    if raw and raw.isdigit():
        chosen = next((v for v in views if v.id == int(raw)), None)
    return views, chosen


async def inbox_page(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    views, chosen = await _saved_filters(request, console, session)
    filters = _filters(request.query, chosen.filters if chosen else None)
    rows = await console.store.read(cq.inbox, session.agent, filters)
    return render(
        request,
        "inbox.html",
        session=session,
        rows=rows,
        filters=filters,
        filters_data=filters_json(filters),
        views=VIEWS,
        saved=views,
        chosen=chosen,
        status_filters=STATUS_FILTERS,
        channels=CHANNELS,
        categories=console.tickets.categories(),
        priorities=console.tickets.priorities(),
        teams=console.tickets.teams(),
        team_name=console.tickets.team_name,
        category_name=console.tickets.category_name,
        query_for=lambda **changes: _query_for(filters, **changes),
    )


def _query_for(filters: cq.Filters, **changes: Any) -> str:
    values = {**filters_json(filters), **changes}
    return urlencode({k: v for k, v in values.items() if v})


async def inbox_api(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    views, chosen = await _saved_filters(request, console, session)
    filters = _filters(request.query, chosen.filters if chosen else None)
    rows = await console.store.read(cq.inbox, session.agent, filters)
    return web.json_response({"rows": [row_json(r) for r in rows], "filters": filters_json(filters)})


async def save_view(request: web.Request, console: Console, session: cq.SessionRecord, body: dict[str, Any]) -> Done:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
        raise ValueError("Beri nama tampilan (paling banyak 64 huruf).")
    filters = filters_json(_filters({k: v for k, v in body.items() if isinstance(v, str)}))
    name = clean_text_for_store(" ".join(name.split()))  # no NUL or lone surrogate reaches PostgreSQL
    view = await console.store.write(
        lambda conn, now: cq.save_view(conn, now, agent_id=session.agent.id, name=name, filters=filters)
    )
    return Done(f"{BASE}/inbox?saved={view.id}", {"view": {"id": view.id, "name": view.name, "filters": view.filters}})


async def delete_view(request: web.Request, console: Console, session: cq.SessionRecord, body: dict[str, Any]) -> Done:
    view_id = _path_id(request)
    await console.store.write(lambda conn, now: cq.delete_view(conn, now, agent_id=session.agent.id, view_id=view_id))
    return Done(f"{BASE}/inbox")


# -- a conversation -----------------------------------------------------------------------------


def _path_id(request: web.Request) -> int:
    """The ``{id}`` of the path; one too big to be any row's id is a page that does not exist."""
    value = int(request.match_info["id"])
    if value > MAX_ID:
        raise web.HTTPNotFound()
    return value


def _conversation_id(request: web.Request) -> int:
    return _path_id(request)


async def conversation_page(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    conversation_id = _conversation_id(request)
    view = await console.store.read(cq.conversation_view, session.agent, conversation_id)
    if view is None:
        exists = await console.store.conversation(conversation_id)
        status = 403 if exists is not None else 404
        message = "Percakapan ini ditangani tim lain." if exists is not None else "Percakapan ini tidak ada."
        return render(request, "error.html", status=status, session=session, title="Tidak bisa dibuka", message=message)
    orders = await console.orders.for_customer(view.conversation.customer_id, limit=10) if console.orders else []
    tickets = await console.tickets.for_customer(view.conversation.customer_id)
    canned = await console.canned_for(session.agent, view.conversation)
    staff = await console.store.read(cq.active_staff)
    numbers = conversation_numbers(view.conversation, view.csat[0])
    timeline = _timeline(view)
    return render(
        request,
        "conversation.html",
        session=session,
        v=view,
        c=view.conversation,
        row=view.row,
        customer=view.customer,
        timeline=timeline,
        orders=orders,
        tickets=tickets,
        canned=canned,
        staff=[s for s in staff if s.id != view.row.agent_id],
        teams=console.tickets.teams(),
        categories=console.tickets.categories(),
        priorities=console.tickets.priorities(),
        team_name=console.tickets.team_name,
        category_name=console.tickets.category_name,
        numbers=numbers,
        placeholders=PLACEHOLDERS,
        max_reply=MAX_REPLY_CHARS,
        max_note=MAX_NOTE_CHARS,
        error=request.query.get("error"),
        page_data={
            "conversation_id": view.conversation.id,
            "last_seq": view.conversation.last_seq,
            "status": view.conversation.status,
            "agent_id": view.row.agent_id,
        },
    )


def _timeline(view: cq.ConversationView) -> list[tuple[str, Any]]:
    """Messages and private notes in the order they happened."""
    items: list[tuple[datetime, int, str, Any]] = [(m.created_at, 0, "message", m) for m in view.messages]
    items += [(n.created_at, 1, "note", n) for n in view.notes]
    items.sort(key=lambda i: (i[0], i[1]))
    return [(kind, item) for _, _, kind, item in items]


async def messages_api(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    conversation_id = _conversation_id(request)
    if not await console.store.read(cq.can_see, session.agent, conversation_id):
        raise cq.NotVisible(conversation_id)
    try:
        after = min(max(0, int(request.query.get("after", "0"))), MAX_INT)
    except ValueError:
        after = 0
    found = await console.store.messages(conversation_id, after, 500)
    return web.json_response({"messages": [message_json(m) for m in found]})


async def canned_api(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    conversation_id = _conversation_id(request)
    if not await console.store.read(cq.can_see, session.agent, conversation_id):
        raise cq.NotVisible(conversation_id)
    conversation = await console.store.conversation(conversation_id)
    assert conversation is not None
    return web.json_response({"canned": await console.canned_for(session.agent, conversation)})


def _result_json(result: cq.ActionResult) -> dict[str, Any]:
    c = result.conversation
    numbers = conversation_numbers(c, None)
    return {
        "ok": True,
        "changed": result.changed,
        "conversation": {"id": c.id, "status": c.status, "last_seq": c.last_seq},
        "messages": [message_json(m) for m in result.messages],
        # As the page shows them: a reply or "resolve" fills figures that were "—".
        "numbers": {
            key: duration(getattr(numbers, key))
            for key in ("first_response", "wait_for_human", "first_human_response", "resolution")
        },
    }


def _int_field(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity
        raise ValueError(f"{name} must be a number") from None
    if not 0 <= number <= MAX_ID:  # no row has such an id; binding it would fail the query
        raise ValueError(f"{name} must be a number")
    return number


async def conversation_action(
    request: web.Request, console: Console, session: cq.SessionRecord, body: dict[str, Any]
) -> Done:
    conversation_id = _conversation_id(request)
    act = request.match_info["act"]
    staff = session.agent
    back = f"{BASE}/conversations/{conversation_id}"
    if act == "take":
        result = await console.take_over(staff, conversation_id)
    elif act == "reply":
        result = await console.reply(staff, conversation_id, body.get("text"))
    elif act == "note":
        note = await console.add_note(staff, conversation_id, body.get("text"))
        return Done(back + "#notes", {"ok": True, "note": note_json(note)})
    elif act == "transfer":
        target = body.get("target")
        agent_id = _int_field(body, "agent_id")
        team = body.get("team") if isinstance(body.get("team"), str) and body.get("team") else None
        if isinstance(target, str) and target.startswith("agent:"):
            agent_id = _int_field({"agent_id": target[6:]}, "agent_id")
        elif isinstance(target, str) and target.startswith("team:"):
            team = target[5:]
        if agent_id is None and team is None:
            raise cq.ConsoleConflict("unknown_agent", "choose an agent or a team")
        result = await console.transfer(staff, conversation_id, to_agent_id=agent_id, to_team=team if agent_id is None else None)
    elif act == "release":
        result = await console.release(staff, conversation_id)
    elif act == "handback":
        result = await console.hand_back(staff, conversation_id)
    elif act == "resolve":
        result = await console.resolve(staff, conversation_id)
    elif act == "status":
        status = body.get("status")
        result = await console.set_status(staff, conversation_id, status if isinstance(status, str) else "")
    elif act == "fields":
        category = body.get("category") if isinstance(body.get("category"), str) else None
        priority = body.get("priority") if isinstance(body.get("priority"), str) else None
        done = await console.set_fields(staff, conversation_id, category=category or None, priority=priority or None)
        return Done(back, {"ok": True, "changed": done})
    else:
        raise web.HTTPNotFound()
    return Done(back, _result_json(result))


# -- admin: agents ---------------------------------------------------------------------------------


async def _to_agents(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    raise web.HTTPFound(BASE + "/admin/agents")


async def agents_page(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    staff = await console.store.read(cq.list_staff)
    return render(request, "admin_agents.html", session=session, staff=staff, teams=console.tickets.teams(),
                  team_name=console.tickets.team_name, created=request.query.get("created"))


async def create_agent(request: web.Request, console: Console, session: cq.SessionRecord, body: dict[str, Any]) -> Done:
    username = str(body.get("username") or "")
    password = str(body.get("password") or "")
    role = str(body.get("role") or "agent")
    name = str(body.get("display_name") or "") or None
    agent = await accounts.create_agent(console.store, username, password, role, name)
    teams = _teams_from(body, console)
    if teams:
        await console.store.write(lambda conn, now: cq.update_staff(conn, now, agent_id=agent.id, teams=teams))
        await console.bus.publish("console", {"type": "staff", "agent_id": agent.id})
    return Done(f"{BASE}/admin/agents?created={quote(agent.username)}", {"ok": True, "agent": {"id": agent.id, "username": agent.username}})


def _teams_from(body: dict[str, Any], console: Console) -> list[str]:
    raw = body.get("teams[]", body.get("teams"))
    if isinstance(raw, str):
        raw = [raw]
    known = dict(console.tickets.teams())
    return [t for t in (raw or []) if isinstance(t, str) and t in known]


async def update_agent(request: web.Request, console: Console, session: cq.SessionRecord, body: dict[str, Any]) -> Done:
    agent_id = _path_id(request)
    role = body.get("role") if body.get("role") in accounts.ROLES else None
    active = None
    if "active" in body:
        active = str(body.get("active")).lower() in ("1", "true", "on", "yes")
    if agent_id == session.agent.id and (active is False or role == "agent"):
        raise ValueError("Anda tidak bisa menonaktifkan atau menurunkan peran akun Anda sendiri.")
    name = body.get("display_name")
    display = " ".join(name.split())[:255] if isinstance(name, str) and name.strip() else None
    teams = _teams_from(body, console) if ("teams[]" in body or "teams" in body or body.get("set_teams")) else None
    found = await console.store.write(
        lambda conn, now: cq.update_staff(conn, now, agent_id=agent_id, role=role, active=active, display_name=display, teams=teams)
    )
    await console.bus.publish("console", {"type": "staff", "agent_id": agent_id})
    return Done(f"{BASE}/admin/agents", {"ok": True, "agent": {"id": found.id, "role": found.role, "active": found.active, "teams": list(found.teams)}})


# -- admin: canned responses -----------------------------------------------------------------------


async def canned_page(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    canned = await console.store.read(cq.list_canned)
    edit = None
    raw = request.query.get("edit")
    if raw and raw.isdigit():
        edit = next((c for c in canned if c.id == int(raw)), None)
    return render(request, "admin_canned.html", session=session, canned=canned, edit=edit, placeholders=PLACEHOLDERS)


async def save_canned(request: web.Request, console: Console, session: cq.SessionRecord, body: dict[str, Any]) -> Done:
    canned_id = _path_id(request) if "id" in request.match_info else None
    shortcut = str(body.get("shortcut") or "").strip().lower()
    if not _SHORTCUT.fullmatch(shortcut):
        raise InvalidInput("shortcut", "Pintasan: 1–32 huruf kecil, angka, '-' atau '_'.")
    title = " ".join(str(body.get("title") or "").split())
    if not title or len(title) > 128:
        raise InvalidInput("title", "Judul wajib diisi (paling banyak 128 huruf).")
    try:
        text = clean_text(body.get("text"))
    except InvalidText:
        raise InvalidInput("text", "Isi balasan wajib diisi (paling banyak 4000 huruf).") from None
    lang = body.get("lang") if body.get("lang") in ("id", "en") else None
    saved = await console.store.write(
        lambda conn, now: cq.save_canned(
            conn, now, canned_id=canned_id, shortcut=shortcut, title=title, text=text, lang=lang,
            actor=f"admin:{session.agent.username}",
        )
    )
    return Done(f"{BASE}/admin/canned", {"ok": True, "canned": {"id": saved.id, "shortcut": saved.shortcut}})


def clean_text(value: Any) -> str:
    from agent_console.service import clean_agent_text

    return clean_agent_text(value, MAX_REPLY_CHARS)


async def delete_canned(request: web.Request, console: Console, session: cq.SessionRecord, body: dict[str, Any]) -> Done:
    canned_id = _path_id(request)
    await console.store.write(lambda conn, now: cq.delete_canned(conn, now, canned_id=canned_id))
    return Done(f"{BASE}/admin/canned")


# -- admin: orders ---------------------------------------------------------------------------------


async def orders_page(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    status = request.query.get("status") or None
    if status not in OrderStatus.ALL:
        status = None
    search = request.query.get("q", "").strip()
    error = None
    try:
        found = await console.orders.list(status=status, limit=200, search=search or None) if console.orders else []
    except InvalidInput:
        found, error = [], f"Kata pencarian terlalu panjang (paling banyak {MAX_SEARCH} huruf)."
    counts = await console.orders.status_counts() if console.orders else {}
    return render(request, "admin_orders.html", session=session, orders=found, current=status, counts=counts,
                  statuses=[(s, ORDER_STATUS_LABELS[s]) for s in OrderStatus.ALL], q=search, error=error)


async def order_page(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    order = await console.orders.get(request.match_info["number"]) if console.orders else None
    if order is None:
        return render(request, "error.html", status=404, session=session, title="Tidak ditemukan",
                      message="Pesanan itu tidak ada.")
    couriers = []
    shipping = getattr(console.shop, "shipping", None)
    if shipping is not None:
        couriers = [(c.id, c.name) for c in shipping.couriers]
    return render(request, "admin_order.html", session=session, o=order, couriers=couriers)


async def order_action(request: web.Request, console: Console, session: cq.SessionRecord, body: dict[str, Any]) -> Done:
    if console.orders is None:
        raise OrderNotFound(request.match_info["number"])
    number = request.match_info["number"]
    act = request.match_info["act"]
    actor = f"admin:{session.agent.username}"
    book = console.orders

    def field(name: str) -> str | None:
        value = body.get(name)
        return value if isinstance(value, str) and value.strip() else None

    def required(name: str, message: str) -> str:
        # Said here, in the console's language (the order book's own words are English).
        value = field(name)
        if value is None:
            raise InvalidInput(name, message)
        return value

    if act == "verify-payment":
        order = await book.verify_payment(number, actor, note=field("note"))
    elif act == "reject-payment":
        reason = required("reason", "Tulis alasan penolakannya; pelanggan akan membacanya.")
        order = await book.reject_payment(number, actor, reason)
    elif act == "ship":
        tracking = required("tracking_number", "Isi nomor resinya dulu.")
        order = await book.ship(number, actor, tracking, courier=field("courier"))
    elif act == "deliver":
        order = await book.deliver(number, actor)
    elif act == "cancel":
        order = await book.cancel(number, actor, reason=field("reason"))
    else:
        raise web.HTTPNotFound()
    from bot.orders.views import order_json

    return Done(f"{BASE}/admin/orders/{quote(order.number)}", {"order": order_json(order)})


# -- admin: teams and categories, reports ---------------------------------------------------------


async def teams_page(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    staff = await console.store.read(cq.list_staff)
    members: dict[str, list[str]] = {}
    for s, _ in staff:
        for team in s.teams:
            if s.active:  # a deactivated agent no longer answers for the team
                members.setdefault(team, []).append(s.display_name)
    return render(request, "admin_teams.html", session=session, teams=console.tickets.teams(),
                  categories=console.tickets.categories(), members=members,
                  config=console.tickets.config)


async def reports_page(request: web.Request, console: Console, session: cq.SessionRecord) -> web.StreamResponse:
    start, end, first, last = day_range(request.query.get("from"), request.query.get("to"), console.tz)
    report = await console.report(start, end)
    return render(request, "admin_reports.html", session=session, r=report, first=first, last=last)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(type(value))


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)
