"""Logging in, sessions, CSRF and roles for the console.

- **Passwords** are checked by :func:`bot.accounts.authenticate` (argon2id, in a worker
  thread, the same time for unknown usernames).
- **Sessions** are server-side rows (``console_sessions``); the cookie holds 256 random
  bits and the database only their SHA-256, so neither a leaked database nor a guessed id
  gives a session. The cookie is ``HttpOnly``, ``SameSite=Lax``, ``Path=/console`` and
  ``Secure`` over https (see :class:`~agent_console.config.ConsoleSettings`). A session
  ends at logout, after its lifetime, after the idle timeout, or when the account is
  deactivated.
- **CSRF**: every POST carries the session's token (``X-CSRF-Token`` header from the
  page's JavaScript, or a ``csrf_token`` form field) and, when the browser sends one, an
  ``Origin`` that is the console's own; the WebSocket checks the ``Origin`` at the
  handshake and the token on messages that change anything. The login form has its own
  token (a cookie and a form field that must match), so nobody can log a browser in
  as someone else.
- **Login rate limit**: failed logins spend tokens per username and per client address;
  when either is empty the form answers 429 with when to try again, before checking
  any password.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from bot import accounts
from bot.ratelimit import RateLimiter
from bot.store import console_queries as cq
from bot.store.sanitize import clean_text

if TYPE_CHECKING:
    from agent_console.config import ConsoleSettings
    from bot.store import Store

COOKIE = "sapa_console"
LOGIN_COOKIE = "sapa_console_login"
COOKIE_PATH = "/console"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
TOUCH_EVERY = timedelta(minutes=1)
SESSION_KEY = "console_session"
_LOGIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class LoginRefused:
    """Why a login did not happen: ``wait_seconds`` > 0 when rate-limited."""

    status: int
    message: str
    wait_seconds: int = 0


class Auth:
    """Sessions, logins and their limits for one worker process."""

    def __init__(self, store: "Store", settings: "ConsoleSettings") -> None:
        self.store = store
        self.settings = settings
        window = settings.login_window_seconds
        self.user_failures = RateLimiter(settings.login_failures_per_user, window)
        self.ip_failures = RateLimiter(settings.login_failures_per_ip, window)

    # -- sessions -------------------------------------------------------------------

    async def current(self, request: web.Request) -> cq.SessionRecord | None:
        """The request's valid session (read once per request), or ``None``."""
        if SESSION_KEY in request:
            return request[SESSION_KEY]
        session = await self.session_for_token(request.cookies.get(COOKIE))
        request[SESSION_KEY] = session
        return session

    async def session_for_token(self, token: str | None) -> cq.SessionRecord | None:
        if not token or len(token) > 128:
            return None
        now = self.store.now()
        session = await self.store.read(cq.fetch_session, hash_token(token), now)
        if session is None:
            return None
        if session.last_seen_at + self.settings.idle_timeout <= now:
            await self.store.write(partial(cq.delete_session, session_id=session.id))
            return None
        if now - session.last_seen_at >= TOUCH_EVERY:
            await self.store.write(partial(cq.touch_session, session_id=session.id))
        return session

    async def session_for_token_hash(self, session_id: str, *, touch: bool = False) -> cq.SessionRecord | None:
        """A session by its stored id (the live hub re-checks open tabs' sessions; an open
        tab counts as use, ``touch``)."""
        now = self.store.now()
        session = await self.store.read(cq.fetch_session, session_id, now)
        if session is None or session.last_seen_at + self.settings.idle_timeout <= now:
            return None
        if touch and now - session.last_seen_at >= TOUCH_EVERY:
            await self.store.write(partial(cq.touch_session, session_id=session.id))
        return session

    async def login(self, request: web.Request, username: str, password: str) -> tuple[cq.SessionRecord, str] | LoginRefused:
        """Check the limits, then the password; a new session and its cookie token on success."""
        ip = client_ip(request)
        name = accounts.normalize_username(username)[:64]
        wait = max(self.user_failures.retry_after(name), self.ip_failures.retry_after(ip))
        if wait > 0:
            return LoginRefused(429, "rate_limited", int(math.ceil(wait)))
        agent = None
        if name and password:
            agent = await accounts.authenticate(self.store, name, password)
        if agent is None:
            self.user_failures.allow(name)
            self.ip_failures.allow(ip)
            return LoginRefused(401, "wrong")
        token = secrets.token_urlsafe(32)
        now = self.store.now()
        await self.store.write(
            partial(
                cq.create_session,
                session_id=hash_token(token),
                agent_id=agent.id,
                csrf_token=secrets.token_urlsafe(32),
                expires_at=now + self.settings.session_lifetime,
                ip=ip,
                # Header bytes that are not UTF-8 arrive as surrogates, which no database takes.
                user_agent=clean_text(request.headers.get("User-Agent") or "") or None,
            )
        )
        session = await self.store.read(cq.fetch_session, hash_token(token), now)
        assert session is not None
        return session, token

    async def logout(self, session: cq.SessionRecord) -> None:
        await self.store.write(partial(cq.delete_session, session_id=session.id))

    # -- cookies ----------------------------------------------------------------------

    def secure(self, request: web.Request) -> bool:
        mode = self.settings.secure_cookie
        return mode == "1" or (mode == "auto" and request.secure)

    def set_session_cookie(self, response: web.StreamResponse, request: web.Request, token: str) -> None:
        response.set_cookie(
            COOKIE,
            token,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=self.secure(request),
            max_age=int(self.settings.session_lifetime.total_seconds()),
        )

    def clear_session_cookie(self, response: web.StreamResponse, request: web.Request) -> None:
        response.del_cookie(COOKIE, path=COOKIE_PATH, secure=self.secure(request), httponly=True, samesite="Lax")

    def login_token(self, request: web.Request) -> str:
        """The login form's anti-forgery token: the browser's, or a new one."""
        token = request.cookies.get(LOGIN_COOKIE)
        # Only what token_urlsafe() makes: the value is written back into the page and the
        # cookie, and a cookie byte that is not UTF-8 (a surrogate here) failed that page.
        if not token or not _LOGIN_TOKEN.fullmatch(token):
            token = secrets.token_urlsafe(24)
        return token

    def set_login_cookie(self, response: web.StreamResponse, request: web.Request, token: str) -> None:
        response.set_cookie(
            LOGIN_COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="Strict", secure=self.secure(request), max_age=3600
        )


# -- request checks -----------------------------------------------------------------------


def client_ip(request: web.Request) -> str:
    return request.remote or "?"


def own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}".lower()


def origin_ok(request: web.Request) -> bool:
    """No ``Origin`` (old browsers, curl) or our own. A ``Sec-Fetch-Site: cross-site``
    request is refused whatever it claims."""
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:  # "http://[": no browser sends it, and it is not our origin
        return False
    if not parts.scheme or not parts.netloc:
        return False
    # Compare host[:port] only: behind a TLS proxy the scheme we see may be http.
    return parts.netloc.lower() == request.host.lower()


def csrf_ok(request: web.Request, session: cq.SessionRecord, form: dict[str, Any] | None) -> bool:
    token = request.headers.get(CSRF_HEADER)
    if token is None and form is not None:
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    return origin_ok(request) and same_token(token, session.csrf_token)


def now_plus(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
