"""The admin JSON API for orders: list, show, verify/reject payments, ship, deliver, cancel.

``/api/admin/...`` takes HTTP Basic credentials of an active **admin** account
(``sapa agent add NAME --role admin``): none or wrong → 401 with
``WWW-Authenticate``; an agent account → 403. Failed logins are rate-limited per
username and client IP (and per IP overall) → 429 with ``Retry-After``. A
successful login is remembered for a minute, so a script calling the API does
not pay the password hash on every request (a deactivated account is refused
within that minute).

POST bodies must be ``Content-Type: application/json`` (415 otherwise): a
cross-site HTML form cannot send that, so a logged-in browser cannot be tricked
into changing an order. Errors are JSON ``{"error": CODE, "message": ...}``:
404 unknown order, 409 a change the order's status does not allow (with
``status``), 400 malformed or oversized fields (with ``field``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from typing import Any, Awaitable, Callable

from aiohttp import web

from bot import accounts
from bot.httputil import BadRequest, read_json_object
from bot.orders.book import InvalidInput, OrderBook
from bot.orders.records import InvalidTransition, OrderNotFound, OrderStatus
from bot.orders.views import order_json, order_summary_json
from bot.ratelimit import RateLimiter
from bot.store import Store

ADMIN = web.AppKey("admin_api", object)

MAX_BODY_BYTES = 16 * 1024
REALM = 'Basic realm="Sapa admin", charset="UTF-8"'
LOGIN_CACHE_SECONDS = 60.0
FAILURES_PER_USER_IP = 5  # a minute: bursts of 5 wrong passwords, then one every 12 s
FAILURES_PER_IP = 30


class AdminApi:
    """The API's state: the order book, the store, login limits and the login cache."""

    def __init__(self, store: Store, orders: OrderBook) -> None:
        self.store = store
        self.orders = orders
        self.user_failures = RateLimiter(FAILURES_PER_USER_IP, 60.0)
        self.ip_failures = RateLimiter(FAILURES_PER_IP, 60.0)
        self._salt = os.urandom(16)
        self._logins: dict[bytes, tuple[float, accounts.AgentRecord]] = {}

    def _cache_key(self, username: str, password: str) -> bytes:
        return hmac.new(self._salt, f"{username}\0{password}".encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    async def admin(self, request: web.Request) -> accounts.AgentRecord:
        """The admin making this request, or a 401/403/429 error."""
        username, password = _credentials(request)
        ip = request.remote or "?"
        user_key = f"{accounts.normalize_username(username)}|{ip}"
        wait = max(self.user_failures.retry_after(user_key), self.ip_failures.retry_after(ip))
        if wait > 0:
            raise _Refused(
                web.json_response(
                    {"error": "too_many_attempts", "message": "Too many failed logins; try again later."},
                    status=429,
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
            )
        key = self._cache_key(username, password)
        cached = self._logins.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < LOGIN_CACHE_SECONDS:
            agent = cached[1]
        else:
            self._logins.pop(key, None)
            agent = await accounts.authenticate(self.store, username, password)
            if agent is None:
                self.user_failures.allow(user_key)
                self.ip_failures.allow(ip)
                raise _unauthorized("Wrong username or password.")
            if len(self._logins) > 1000:
                self._logins.clear()
            self._logins[key] = (now, agent)
        if not agent.is_admin:
            raise _Refused(
                web.json_response({"error": "forbidden", "message": "This needs an admin account."}, status=403)
            )
        return agent


class _Refused(Exception):
    """A request turned away with a ready response (the error middleware would drop its headers)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _unauthorized(message: str) -> _Refused:
    return _Refused(
        web.json_response(
            {"error": "unauthorized", "message": message}, status=401, headers={"WWW-Authenticate": REALM}
        )
    )


def _credentials(request: web.Request) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise _unauthorized("Log in with an admin account (HTTP Basic).")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:
        # Not base64 (binascii.Error), not UTF-8 once decoded, or not even ASCII: a header
        # byte that is not UTF-8 reaches us as a surrogate, which b64decode refuses with a
        # plain ValueError.
        raise _unauthorized("Malformed credentials.") from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise _unauthorized("Malformed credentials.")
    return username, password


Handler = Callable[[web.Request, accounts.AgentRecord, dict[str, Any]], Awaitable[web.StreamResponse]]


def _endpoint(handler: Handler, *, post: bool = False) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        api: AdminApi = request.app[ADMIN]  # type: ignore[assignment]
        if post and request.content_type != "application/json":
            # Checked before the login so a forged form learns nothing either.
            raise BadRequest(415, "unsupported_media_type", "Send the request body as application/json.")
        try:
            agent = await api.admin(request)
        except _Refused as refused:
            return refused.response
        body: dict[str, Any] = {}
        if post:
            raw_length = request.content_length
            if raw_length is None or raw_length > 0:
                body = await _optional_json(request)
        try:
            return await handler(request, agent, body)
        except OrderNotFound:
            raise BadRequest(404, "order_not_found", f"No order {request.match_info.get('number', '')}.") from None
        except InvalidTransition as exc:
            return web.json_response(
                {"error": "invalid_transition", "message": str(exc), "status": exc.status}, status=409
            )
        except InvalidInput as exc:
            return web.json_response({"error": "invalid_field", "field": exc.field, "message": str(exc)}, status=400)

    return wrapped


async def _optional_json(request: web.Request) -> dict[str, Any]:
    try:
        return await read_json_object(request, max_bytes=MAX_BODY_BYTES)
    except BadRequest as exc:
        if exc.code == "empty_body":
            return {}
        raise


def _string(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidInput(name, f'Field "{name}" is required.')
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, f'Field "{name}" must be a string.')
    return value


def _int_param(request: web.Request, name: str, default: int, maximum: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(400, "invalid_query", f'"{name}" must be a whole number.') from None
    if value < 0 or value > maximum:
        raise BadRequest(400, "invalid_query", f'"{name}" must be between 0 and {maximum}.')
    return value


def _actor(agent: accounts.AgentRecord) -> str:
    return f"admin:{agent.username}"


async def list_orders(request: web.Request, agent: accounts.AgentRecord, body: dict[str, Any]) -> web.Response:
    api: AdminApi = request.app[ADMIN]  # type: ignore[assignment]
    status = request.query.get("status") or None
    if status is not None and status not in OrderStatus.ALL:
        raise BadRequest(400, "invalid_query", f'"status" must be one of {", ".join(OrderStatus.ALL)}.')
    limit = _int_param(request, "limit", 50, 500)
    offset = _int_param(request, "offset", 0, 10_000_000)
    search = request.query.get("q") or None
    found = await api.orders.list(status=status, limit=max(1, limit), offset=offset, search=search)
    return web.json_response(
        {"orders": [order_summary_json(o) for o in found], "status": status, "q": search, "limit": limit, "offset": offset}
    )


async def show_order(request: web.Request, agent: accounts.AgentRecord, body: dict[str, Any]) -> web.Response:
    api: AdminApi = request.app[ADMIN]  # type: ignore[assignment]
    order = await api.orders.get(request.match_info["number"])
    if order is None:
        raise OrderNotFound(request.match_info["number"])
    return web.json_response({"order": order_json(order)})


def _change(action: Callable[[OrderBook, str, str, dict[str, Any]], Awaitable[Any]]) -> Handler:
    async def handler(request: web.Request, agent: accounts.AgentRecord, body: dict[str, Any]) -> web.Response:
        api: AdminApi = request.app[ADMIN]  # type: ignore[assignment]
        order = await action(api.orders, request.match_info["number"], _actor(agent), body)
        return web.json_response({"order": order_json(order)})

    return handler


verify_payment = _change(lambda book, n, actor, b: book.verify_payment(n, actor, note=_string(b, "note")))
reject_payment = _change(
    lambda book, n, actor, b: book.reject_payment(n, actor, _string(b, "reason", required=True))  # type: ignore[arg-type]
)
ship = _change(
    lambda book, n, actor, b: book.ship(
        n, actor, _string(b, "tracking_number", required=True), courier=_string(b, "courier")  # type: ignore[arg-type]
    )
)
deliver = _change(lambda book, n, actor, b: book.deliver(n, actor))
cancel = _change(lambda book, n, actor, b: book.cancel(n, actor, reason=_string(b, "reason")))


def install(app: web.Application, store: Store, orders: OrderBook) -> None:
    """Called once the runtime is up (see :func:`bot.app.create_app`)."""
    app[ADMIN] = AdminApi(store, orders)


def add_routes(app: web.Application) -> None:
    base = "/api/admin/orders"
    app.router.add_get(base, _endpoint(list_orders))
    app.router.add_get(base + "/{number}", _endpoint(show_order))
    app.router.add_post(base + "/{number}/verify-payment", _endpoint(verify_payment, post=True))
    app.router.add_post(base + "/{number}/reject-payment", _endpoint(reject_payment, post=True))
    app.router.add_post(base + "/{number}/ship", _endpoint(ship, post=True))
    app.router.add_post(base + "/{number}/deliver", _endpoint(deliver, post=True))
    app.router.add_post(base + "/{number}/cancel", _endpoint(cancel, post=True))
