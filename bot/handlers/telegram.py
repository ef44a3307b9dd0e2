"""The Telegram channel on the aiohttp server: its webhook route and its life cycle.

With ``TELEGRAM_TOKEN`` set, every worker runs a :class:`~bot.telegram.channel.TelegramChannel`
on the server's event loop (started after the bot runtime, stopped before it).
With ``TELEGRAM_WEBHOOK_URL`` too, ``POST <the URL's path>`` takes Telegram's updates;
a request without the right ``X-Telegram-Bot-Api-Secret-Token`` is refused (403).
The update is answered 200 only once its turn and its replies are committed, so
Telegram redelivers anything we might have lost (and the message id makes the
redelivery harmless).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import AsyncIterator

from aiohttp import web

from bot.bus import BusUnavailable
from bot.config import Settings
from bot.httputil import BadRequest, json_error, read_json_object
from bot.runtime import Runtime
from bot.store.columns import MAX_ID
from bot.store.engines import DatabaseUnavailable, note_database_unavailable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024
READY_WAIT_SECONDS = 10.0

# The running channel (bot.telegram.channel.TelegramChannel), when Telegram is configured.
CHANNEL_KEY = web.AppKey("telegram_channel", object)


def setup(app: web.Application, settings: Settings, runtime_key: web.AppKey[Runtime]) -> None:
    """Wire Telegram into ``app`` when ``TELEGRAM_TOKEN`` is set (called by :func:`bot.app.create_app`)."""
    if not settings.telegram_token:
        return
    from bot.telegram.channel import webhook_path

    path = webhook_path(settings)
    if path:
        app.router.add_post(path, webhook)
    add_admin_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        from bot.telegram.channel import TelegramChannel

        channel = TelegramChannel(app[runtime_key])
        app[CHANNEL_KEY] = channel
        await channel.start()
        try:
            yield
        finally:
            await channel.stop()

    app.cleanup_ctx.append(lifecycle)


async def webhook(request: web.Request) -> web.StreamResponse:
    """``POST`` of one update by Telegram."""
    from telegram import Update

    from bot.telegram.channel import UPDATES, WEBHOOK_REFUSED, TelegramChannel

    channel = request.app.get(CHANNEL_KEY)
    if not isinstance(channel, TelegramChannel):
        return json_error(503, "unavailable", "The Telegram channel is starting.")
    given = request.headers.get(SECRET_HEADER, "")
    # "surrogatepass": header bytes that are not UTF-8 reach us as surrogates (a wrong secret, not a 500).
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), channel.webhook_secret.encode("utf-8")):
        WEBHOOK_REFUSED.inc()
        log.warning("Telegram webhook: refused a request without the right secret token from %s", request.remote)
        return json_error(403, "forbidden", "Wrong or missing secret token.")
    data = await read_json_object(request, max_bytes=MAX_UPDATE_BYTES)
    try:
        await asyncio.wait_for(channel.ready.wait(), READY_WAIT_SECONDS)
    except asyncio.TimeoutError:
        return json_error(503, "unavailable", "The Telegram channel is starting.")
    try:
        update = Update.de_json(data, channel.bot)
    except Exception:
        return json_error(400, "invalid_update", "Not a Telegram update.")
    if update is None:
        return json_error(400, "invalid_update", "Not a Telegram update.")
    UPDATES.labels("webhook").inc()
    try:
        await channel.handle_update(update)
    except BusUnavailable:  # Redis is away (the bus logs it once); Telegram sends the update again
        return json_error(503, "unavailable", "Temporarily unavailable.")
    except DatabaseUnavailable as exc:  # so is PostgreSQL; Telegram sends the update again
        note_database_unavailable(exc)
        return json_error(503, "unavailable", "Temporarily unavailable.")
    except Exception:
        log.exception("Telegram webhook: update %s failed; Telegram will send it again", update.update_id)
        return json_error(500, "server_error", "The update could not be processed.")
    return web.json_response({"ok": True})


# -- the admin API: broadcasts (HTTP Basic with an admin account, see bot/adminapi.py) --


def add_admin_routes(app: web.Application) -> None:
    from bot import adminapi

    base = "/api/admin/telegram/broadcasts"
    # adminapi's own wrapper: the same login, limits, JSON-only POSTs and errors as the order API.
    app.router.add_get(base, adminapi._endpoint(list_broadcasts))  # noqa: SLF001
    app.router.add_post(base, adminapi._endpoint(create_broadcast, post=True))  # noqa: SLF001
    app.router.add_get(base + "/{id}", adminapi._endpoint(show_broadcast))  # noqa: SLF001


def _store(request: web.Request):  # type: ignore[no-untyped-def]
    channel = request.app.get(CHANNEL_KEY)
    if channel is None:
        raise BadRequest(503, "unavailable", "The Telegram channel is starting.")
    return channel.store  # type: ignore[attr-defined]


async def create_broadcast(request: web.Request, agent, body: dict) -> web.Response:  # type: ignore[no-untyped-def]
    """``POST /api/admin/telegram/broadcasts`` ``{"text": "...", "lang": "id"|"en"|null}`` → 201."""
    from bot.telegram import broadcasts

    try:
        broadcast_id, _ = await broadcasts.create(
            _store(request), body.get("text"), body.get("lang"), created_by=f"admin:{agent.username}"
        )
    except broadcasts.InvalidBroadcast as exc:
        raise BadRequest(400, "invalid_broadcast", str(exc)) from None
    report = await broadcasts.report(_store(request), broadcast_id)
    assert report is not None
    return web.json_response(report.as_json(), status=201)


async def list_broadcasts(request: web.Request, agent, body: dict) -> web.Response:  # type: ignore[no-untyped-def]
    """``GET /api/admin/telegram/broadcasts``: the latest 50, newest first."""
    from bot.telegram import broadcasts

    return web.json_response({"broadcasts": [r.as_json() for r in await broadcasts.recent(_store(request), 50)]})


async def show_broadcast(request: web.Request, agent, body: dict) -> web.Response:  # type: ignore[no-untyped-def]
    """``GET /api/admin/telegram/broadcasts/{id}``: the delivery report."""
    from bot.telegram import broadcasts

    try:
        broadcast_id = int(request.match_info["id"])
    except ValueError:
        broadcast_id = 0
    if not 0 < broadcast_id <= MAX_ID:
        raise BadRequest(404, "broadcast_not_found", "No such broadcast.")
    report = await broadcasts.report(_store(request), broadcast_id)
    if report is None:
        raise BadRequest(404, "broadcast_not_found", f"No broadcast #{broadcast_id}.")
    return web.json_response(report.as_json())
