"""The website chat widget's channel: ``/widget/session``, ``/widget/ws``, uploads.

The protocol is specified in ``web_widget/PROTOCOL.md``. In short: a visitor
gets a signed token (``POST /widget/session``), opens ``GET /widget/ws``, says
``hello`` with the last ``seq`` it has shown, and receives ``welcome``, the
messages it missed and then every committed message of its conversation as the
bus announces them. A customer ``message`` goes through the engine like any
channel's; the bot's replies come back through the bus, not from the handler,
so every open tab of the visitor shows each message exactly once.

A conversation is keyed by (channel ``widget``, visitor id). Nothing here
knows flows or NLU: this is an adapter like :mod:`bot.handlers.rest`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, WSCloseCode, WSMsgType, web

from bot.bus import RESYNC, BusUnavailable, Event, conversation_topic, message_event
from bot.config import secret_key
from bot.flows.context import shop_name
from bot.handlers.widget_hours import availability, schedule
from bot.handlers.widget_session import TokenSigner, origin_allowed, request_origin
from bot.handlers.widget_uploads import NotAnImage, TooLarge, UploadStore, serve
from bot.httputil import MALFORMED_BODY, BadRequest, loads_json, read_json_object
from bot.nlu.normalize import EMAIL_RE, PHONE_RE
from bot.ratelimit import RateLimiter
from bot.runtime import Runtime
from bot.store import ConversationRecord
from bot.store.engines import DatabaseUnavailable, note_database_unavailable
from bot.store.sanitize import clean_text, is_blank
from bot.texts import Texts
from bot.types import LANGS, Attachment, ConversationStatus, IncomingMessage, Lang

log = logging.getLogger(__name__)

CHANNEL = "widget"
MAX_CLIENT_ID = 64
MAX_ATTACHMENTS = 5
MAX_COMMENT = 1000
MAX_NAME = 100
MAX_EMAIL = 254
MAX_PHONE = 32
MAX_FRAME_BYTES = 64 * 1024
HEARTBEAT_SECONDS = 30.0
HISTORY_PAGE = 200
TYPING_EVERY_SECONDS = 2.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403


class WidgetService:
    """What every widget connection shares: config, signer, limits, uploads, open sockets."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.store = runtime.store
        self.bus = runtime.bus
        self.config = runtime.shop.widget
        self.default_lang: Lang = runtime.settings.default_lang
        self.signer = TokenSigner(secret_key(runtime.settings))
        self.uploads = UploadStore(runtime.settings.data_dir / "uploads")
        self.texts = Texts.load(runtime.shop.texts, shop_name=shop_name(runtime.shop))
        limits = self.config.limits
        self.session_limit = RateLimiter(limits.messages_per_minute)
        self.ip_limit = RateLimiter(limits.messages_per_minute_per_ip)
        self.sockets: set[web.WebSocketResponse] = set()

    def text(self, key: str, lang: Lang, **values: Any) -> str:
        return self.texts.get(key, lang, **{k: str(v) for k, v in values.items()})

    def availability(self, lang: Lang) -> tuple[bool, str | None]:
        return availability(self.config.business_hours, datetime.now(UTC), lang)

    def schedule(self) -> list[dict[str, Any]]:
        """The offline notice from now on, for the widget to follow by itself (PROTOCOL.md)."""
        return schedule(self.config.business_hours, datetime.now(UTC))

    def allow(self, visitor_id: str, ip: str) -> bool:
        """Spend one token of the visitor's and one of the IP's bucket."""
        return self.ip_limit.allow(ip) and self.session_limit.allow(visitor_id)

    async def close_all(self) -> None:
        """Say goodbye to every open socket (the server is stopping; clients reconnect)."""
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server restarting")


SERVICE = web.AppKey("widget_service", WidgetService)


# -- HTTP ----------------------------------------------------------------------


def _check_origin(request: web.Request) -> WidgetService:
    service = request.app[SERVICE]
    if not origin_allowed(request, service.config.allowed_origins):
        raise BadRequest(403, "origin_not_allowed", "This website may not use the chat widget.")
    return service


async def session(request: web.Request) -> web.Response:
    """``POST /widget/session``: the visitor's token (kept, or new) and the public config."""
    service = _check_origin(request)
    data: dict[str, Any] = {}
    if request.body_exists and request.content_length != 0:
        data = await read_json_object(request, max_bytes=4096)
    token = data.get("token")
    visitor_id = service.signer.visitor(token)
    if visitor_id is None:
        token, visitor_id = service.signer.new_token()
    lang = data.get("lang")
    online, _ = service.availability(lang if lang in LANGS else service.default_lang)
    config = service.config.public()
    config["online"] = online
    config["offline_message"] = (
        None if online else {code: service.availability(code)[1] for code in LANGS}
    )
    config["availability"] = service.schedule()
    return web.json_response({"token": token, "visitor_id": visitor_id, "config": config})


async def upload(request: web.Request) -> web.Response:
    """``POST /widget/upload?token=``: one image in the multipart field ``file``."""
    service = _check_origin(request)
    visitor_id = service.signer.visitor(request.query.get("token"))
    if visitor_id is None:
        raise BadRequest(401, "invalid_token", "The widget token is missing or invalid.")
    limit = service.config.limits.upload_max_bytes
    too_large = BadRequest(413, "too_large", f"The image is larger than {limit} bytes.")
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise too_large
    if not service.allow(visitor_id, request.remote or "?"):
        raise BadRequest(429, "rate_limited", "Too many uploads; wait a moment.")
    not_multipart = BadRequest(400, "invalid", 'Send multipart/form-data with a "file" field.')
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                raise not_multipart
            if isinstance(part, BodyPartReader) and part.name == "file":
                break
        stored = await service.uploads.save_part(part, visitor_id, limit)
    except TooLarge:
        raise too_large from None
    except NotAnImage:
        raise BadRequest(415, "not_an_image", "Only PNG, JPEG, WebP and GIF images can be sent.") from None
    except (*MALFORMED_BODY, KeyError):
        raise not_multipart from None
    return web.json_response({"id": stored.id, "url": stored.url, "name": stored.name})


async def uploaded(request: web.Request) -> web.StreamResponse:
    """``GET /widget/uploads/{id}``."""
    return await serve(request, request.app[SERVICE].uploads)


async def preflight(request: web.Request) -> web.Response:
    """CORS preflight of the widget's cross-origin POSTs (the shop's page → this server)."""
    _check_origin(request)
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "86400",
        },
    )


async def _cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Allowed origins may read the widget endpoints' answers (errors included)."""
    if not request.path.startswith("/widget/") or SERVICE not in request.app:
        return
    origin = request_origin(request)
    if origin and origin_allowed(request, request.app[SERVICE].config.allowed_origins):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")


# -- WebSocket -----------------------------------------------------------------


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """``GET /widget/ws?token=``; refusals are close codes, which a browser can read."""
    service = request.app[SERVICE]
    # No permessage-deflate: the frames are small JSON, and a zlib context per socket
    # would cost ~100 KB of memory per idle visitor (browsers always offer it).
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_FRAME_BYTES, compress=False)
    await ws.prepare(request)
    if not origin_allowed(request, service.config.allowed_origins):
        await ws.close(code=CLOSE_FORBIDDEN_ORIGIN, message=b"origin not allowed")
        return ws
    visitor_id = service.signer.visitor(request.query.get("token"))
    if visitor_id is None:
        await ws.close(code=CLOSE_UNAUTHORIZED, message=b"invalid token")
        return ws
    connection = WidgetConnection(service, ws, visitor_id, request.remote or "?")
    service.sockets.add(ws)
    try:
        await connection.run()
    finally:
        service.sockets.discard(ws)
        await connection.stop()
    return ws


class WidgetConnection:
    """One open socket of one visitor: its conversation, what it has been sent, its live feed."""

    def __init__(self, service: WidgetService, ws: web.WebSocketResponse, visitor_id: str, ip: str) -> None:
        self.service = service
        self.ws = ws
        self.visitor_id = visitor_id
        self.ip = ip
        self.lang: Lang = service.default_lang
        self.conversation_id: int | None = None
        self.customer_id: int | None = None
        self.status: str = ConversationStatus.BOT
        self.sent_seq = 0
        # Held while sending catch-up from the store, so live events never jump ahead of it.
        self.lock = asyncio.Lock()
        self.feed: asyncio.Task[None] | None = None
        self.typing_sent_at = 0.0

    # -- the loop ---------------------------------------------------------------

    async def run(self) -> None:
        async for frame in self.ws:
            if frame.type == WSMsgType.TEXT:
                try:
                    await self.on_text(frame.data)
                except (ConnectionResetError, asyncio.CancelledError):
                    raise
                except BusUnavailable:  # Redis is away for a moment; the bus has said so in the log
                    await self.error("server_error", "widget_server_error")
                except DatabaseUnavailable as exc:
                    note_database_unavailable(exc)
                    await self.error("server_error", "widget_server_error")
                except Exception:
                    log.exception("widget frame failed (visitor %s)", self.visitor_id)
                    await self.error("server_error", "widget_server_error")
            elif frame.type == WSMsgType.BINARY:
                await self.error("invalid", "widget_invalid")
            elif frame.type == WSMsgType.ERROR:
                log.info("widget socket error (visitor %s): %s", self.visitor_id, self.ws.exception())
                break

    async def stop(self) -> None:
        if self.feed is not None:
            self.feed.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.feed
            self.feed = None

    async def send(self, event: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionResetError):
            await self.ws.send_str(json.dumps(event, ensure_ascii=False))

    async def error(self, code: str, text_key: str, client_id: str | None = None, **extra: Any) -> None:
        event: dict[str, Any] = {
            "type": "error",
            "code": code,
            "message": self.service.text(text_key, self.lang, **extra.pop("values", {})),
        }
        if client_id is not None:
            event["client_id"] = client_id
        event.update(extra)
        await self.send(event)

    async def on_text(self, raw: str) -> None:
        try:
            data = loads_json(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            await self.error("invalid", "widget_invalid")
            return
        handler = self.HANDLERS.get(data["type"])
        if handler is None:
            await self.error("invalid", "widget_invalid")
            return
        if data["type"] not in ("hello", "ping") and self.conversation_id is None:
            await self.error("invalid", "widget_invalid", reason="send hello first")
            return
        await handler(self, data)

    # -- client → server ----------------------------------------------------------

    async def on_hello(self, data: dict[str, Any]) -> None:
        lang = data.get("lang")
        if lang in LANGS:
            self.lang = lang
        conversation = await self.service.store.open_conversation(
            CHANNEL, self.visitor_id, lang if lang in LANGS else None
        )
        if lang not in LANGS:
            self.lang = conversation.lang if conversation.lang in LANGS else self.service.default_lang
        last_seq = data.get("last_seq")
        if isinstance(last_seq, bool) or not isinstance(last_seq, int) or last_seq < 0:
            last_seq = 0
        known = data.get("conversation_id")
        # The client's seq belongs to an earlier (resolved) conversation: start afresh.
        if (isinstance(known, int) and known != conversation.id) or last_seq > conversation.last_seq:
            last_seq = 0
        await self.show(conversation, last_seq)

    async def on_message(self, data: dict[str, Any]) -> None:
        service = self.service
        client_id = data.get("client_id")
        if (
            not isinstance(client_id, str)
            or not client_id.strip()
            or len(client_id) > MAX_CLIENT_ID
            or not client_id.isprintable()
        ):
            await self.error("invalid", "widget_invalid", reason="client_id must be a string of 1-64 characters")
            return
        chosen = data.get("lang")
        if chosen in LANGS:
            # The customer's id/en switch: this socket's own notes (too long, slow down, …)
            # follow it from this message on, like the bot's answers do.
            self.lang = chosen
        text = data.get("text", "")
        if text is None:
            text = ""
        if not isinstance(text, str):
            await self.error("invalid", "widget_invalid", client_id)
            return
        max_chars = service.config.limits.max_chars
        if len(text) > max_chars:
            await self.error("too_long", "widget_too_long", client_id, values={"max_chars": max_chars})
            return
        attachments = await self._attachments(data.get("attachments"), client_id)
        if attachments is None:
            return
        if is_blank(text) and not attachments:
            await self.error("empty", "widget_empty", client_id)
            return

        assert self.conversation_id is not None
        # A resend of a committed message: the same ack, and no second turn.
        try:
            earlier = await service.store.find_by_client_id(self.conversation_id, client_id)
        except DatabaseUnavailable as exc:  # PostgreSQL is away: "try again" on this message
            note_database_unavailable(exc)
            await self.error("server_error", "widget_server_error", client_id)
            return
        if earlier is not None:
            await self.send({"type": "ack", "client_id": client_id, "seq": earlier.seq})
            return
        if not service.allow(self.visitor_id, self.ip):
            await self.error("rate_limited", "widget_rate_limited", client_id)
            return

        await self.send({"type": "typing", "who": "bot", "on": True})
        try:
            result = await service.engine.handle(
                IncomingMessage(
                    channel=CHANNEL,
                    sender_id=self.visitor_id,
                    text=text,
                    lang_hint=chosen if chosen in LANGS else None,
                    client_id=client_id,
                    attachments=attachments,
                )
            )
        except (BusUnavailable, DatabaseUnavailable) as exc:
            # Redis or PostgreSQL is away for a moment: this message gets its "try again"
            # button in the widget (the bus has logged a Redis outage). Sent again, a message
            # that was stored after all is only acknowledged (its client_id).
            if isinstance(exc, DatabaseUnavailable):
                note_database_unavailable(exc)
            await self.error("server_error", "widget_server_error", client_id)
            return
        finally:
            await self.send({"type": "typing", "who": "bot", "on": False})
        info = result.info
        if info.lang in LANGS and chosen not in LANGS:
            self.lang = info.lang
        conversation_id = info.conversation_id
        if conversation_id is not None and conversation_id != self.conversation_id:
            # The shown conversation was resolved; the message opened the next one.
            conversation = await service.store.conversation(conversation_id)
            if conversation is not None:
                await self.show(conversation, 0)
        if info.customer_seq is not None:
            await self.send({"type": "ack", "client_id": client_id, "seq": info.customer_seq})
        if info.status != self.status:
            self.status = info.status
            # The turn is committed and acknowledged; other tabs catch up when the bus is back.
            with contextlib.suppress(BusUnavailable):
                await service.bus.publish(
                    conversation_topic(self.conversation_id),
                    {"type": "status", "conversation_id": self.conversation_id, "status": info.status},
                )

    async def _attachments(self, value: Any, client_id: str) -> tuple[Attachment, ...] | None:
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
            await self.error("invalid_attachment", "widget_bad_attachment", client_id)
            return None
        found: list[Attachment] = []
        for upload_id in value:
            upload = self.service.uploads.find(upload_id) if isinstance(upload_id, str) else None
            if upload is None or upload.visitor_id != self.visitor_id:
                await self.error("invalid_attachment", "widget_bad_attachment", client_id)
                return None
            found.append(Attachment(kind="image", url=upload.url, name=upload.name))
        return tuple(found)

    async def on_prechat(self, data: dict[str, Any]) -> None:
        modes = self.service.config.prechat
        values: dict[str, str] = {}
        checks = (
            ("name", "display_name", MAX_NAME, _valid_name, "widget_name_required", "widget_name_required"),
            ("email", "email", MAX_EMAIL, _valid_email, "widget_email_required", "widget_email_invalid"),
            ("phone", "phone", MAX_PHONE, _valid_phone, "widget_phone_required", "widget_phone_invalid"),
        )
        for name, column, max_len, valid, missing_key, invalid_key in checks:
            mode = modes.get(name, "off")
            if mode == "off":
                continue
            raw = data.get(name)
            if raw is not None and not isinstance(raw, str):
                await self.error("invalid_prechat", invalid_key, field=name)
                return
            value = " ".join((raw or "").split())
            if not value:
                if mode == "required":
                    await self.error("invalid_prechat", missing_key, field=name)
                    return
                continue
            if len(value) > max_len or not valid(value):
                await self.error("invalid_prechat", invalid_key, field=name)
                return
            values[column] = value
        if not self.service.allow(self.visitor_id, self.ip):
            await self.error("rate_limited", "widget_rate_limited")
            return
        assert self.customer_id is not None
        if values:
            await self.service.store.update_customer(self.customer_id, **values)
        await self.send({"type": "saved", "what": "prechat"})

    async def on_rating(self, data: dict[str, Any]) -> None:
        if not self.service.config.csat_enabled:
            await self.error("invalid", "widget_rating_disabled")
            return
        score = data.get("score")
        comment = data.get("comment")
        if (
            isinstance(score, bool)
            or not isinstance(score, int)
            or not 1 <= score <= 5
            or (comment is not None and not isinstance(comment, str))
            or (isinstance(comment, str) and len(comment) > MAX_COMMENT)
        ):
            await self.error("invalid_rating", "widget_rating_invalid")
            return
        if not self.service.allow(self.visitor_id, self.ip):
            await self.error("rate_limited", "widget_rate_limited")
            return
        assert self.conversation_id is not None
        # Cleaned here, not only by the store: the live event below carries it too, and
        # a lone surrogate would fail that event's JSON on its way to the console.
        comment = clean_text(comment) if comment else None
        await self.service.store.save_rating(self.conversation_id, score, comment)
        await self.send({"type": "saved", "what": "rating"})
        # -- agent console: show the rating live (the widget itself ignores this event) --
        with contextlib.suppress(Exception):
            await self.service.bus.publish(
                conversation_topic(self.conversation_id),
                {"type": "rating", "conversation_id": self.conversation_id, "score": score, "comment": comment},
            )

    async def on_typing(self, data: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.typing_sent_at < TYPING_EVERY_SECONDS:
            return
        self.typing_sent_at = now
        assert self.conversation_id is not None
        with contextlib.suppress(BusUnavailable):  # a typing dot is not worth an error note
            await self.service.bus.publish(
                conversation_topic(self.conversation_id),
                {"type": "typing", "conversation_id": self.conversation_id, "who": "customer", "on": True},
            )

    async def on_ping(self, data: dict[str, Any]) -> None:
        await self.send({"type": "pong"})

    HANDLERS = {
        "hello": on_hello,
        "message": on_message,
        "prechat": on_prechat,
        "rating": on_rating,
        "typing": on_typing,
        "ping": on_ping,
    }

    # -- server → client ----------------------------------------------------------

    async def show(self, conversation: ConversationRecord, after_seq: int) -> None:
        """Follow ``conversation``: ``welcome``, everything after ``after_seq``, then live events."""
        async with self.lock:
            if self.conversation_id != conversation.id or self.feed is None or self.feed.done():
                await self.stop()
                subscribed = asyncio.Event()
                self.feed = asyncio.create_task(self._feed(conversation.id, subscribed))
                waiter = asyncio.create_task(subscribed.wait())
                await asyncio.wait({waiter, self.feed}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if self.feed.done():  # the subscription failed
                    self.feed.result()
            self.conversation_id = conversation.id
            self.customer_id = conversation.customer_id
            self.status = conversation.status
            self.sent_seq = after_seq
            online, offline_message = self.service.availability(self.lang)
            await self.send(
                {
                    "type": "welcome",
                    "conversation_id": conversation.id,
                    "last_seq": conversation.last_seq,
                    "status": conversation.status,
                    "online": online,
                    "offline_message": offline_message,
                    "availability": self.service.schedule(),
                    "lang": self.lang,
                    "rating_requested": self.service.config.csat_enabled
                    and conversation.status == ConversationStatus.RESOLVED,
                }
            )
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Send every stored message after ``sent_seq`` (caller holds the lock)."""
        assert self.conversation_id is not None
        while True:
            batch = await self.service.store.messages(self.conversation_id, self.sent_seq, HISTORY_PAGE)
            for message in batch:
                await self.send(message_event(message))
                self.sent_seq = message.seq
            if len(batch) < HISTORY_PAGE:
                return

    async def _feed(self, conversation_id: int, subscribed: asyncio.Event) -> None:
        async with self.service.bus.subscribe(conversation_topic(conversation_id)) as subscription:
            subscribed.set()
            while True:
                event = await subscription.get()
                try:
                    await self._on_event(conversation_id, event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("widget live event failed (conversation %s)", conversation_id)

    async def _on_event(self, conversation_id: int, event: Event) -> None:
        if conversation_id != self.conversation_id or self.ws.closed:
            return
        kind = event.get("type")
        if kind == RESYNC:
            await self._resync(conversation_id)
        elif kind == "message":
            seq = event.get("seq")
            if not isinstance(seq, int):
                return
            async with self.lock:
                if conversation_id != self.conversation_id or seq <= self.sent_seq:
                    return  # already sent (history, or an earlier gap fill)
                if seq == self.sent_seq + 1:
                    await self.send(_message_from_event(event))
                    self.sent_seq = seq
                else:  # events arrived out of order or were dropped: the store has them all
                    await self._catch_up()
        elif kind == "status" and isinstance(event.get("status"), str):
            self.status = event["status"]
            await self.send(
                {
                    "type": "status",
                    "status": event["status"],
                    "rating_requested": self.service.config.csat_enabled
                    and event["status"] == ConversationStatus.RESOLVED,
                }
            )
        elif kind == "typing" and event.get("who") in ("bot", "agent"):
            await self.send({"type": "typing", "who": event["who"], "on": bool(event.get("on"))})


    async def _resync(self, conversation_id: int) -> None:
        """The feed is back after Redis went away: send what was committed meanwhile."""
        conversation = await self.service.store.conversation(conversation_id)
        async with self.lock:
            if conversation_id != self.conversation_id:
                return
            await self._catch_up()
        if conversation is not None and conversation.status != self.status:
            await self._on_event(conversation_id, {"type": "status", "status": conversation.status})


def _message_from_event(event: Event) -> dict[str, Any]:
    return {
        "type": "message",
        "conversation_id": event.get("conversation_id"),
        "seq": event["seq"],
        "sender_type": event.get("sender_type"),
        "text": event.get("text") or "",
        "buttons": list(event.get("buttons") or []),
        "attachments": list(event.get("attachments") or []),
        "created_at": event.get("created_at"),
    }


def _valid_name(value: str) -> bool:
    return all(unicodedata.category(c)[0] != "C" for c in value)


def _valid_email(value: str) -> bool:
    return EMAIL_RE.fullmatch(value) is not None


def _valid_phone(value: str) -> bool:
    return PHONE_RE.fullmatch(value) is not None


# -- wiring --------------------------------------------------------------------


def install(app: web.Application, runtime: Runtime) -> None:
    """Called once the runtime is up (see :func:`bot.app.create_app`)."""
    app[SERVICE] = WidgetService(runtime)


async def _close_sockets(app: web.Application) -> None:
    if SERVICE in app:
        await app[SERVICE].close_all()


def add_routes(app: web.Application) -> None:
    app.router.add_post("/widget/session", session)
    app.router.add_route("OPTIONS", "/widget/session", preflight)
    app.router.add_get("/widget/ws", websocket)
    app.router.add_post("/widget/upload", upload)
    app.router.add_route("OPTIONS", "/widget/upload", preflight)
    app.router.add_get("/widget/uploads/{id}", uploaded)
    app.on_response_prepare.append(_cors_headers)
    app.on_shutdown.append(_close_sockets)
