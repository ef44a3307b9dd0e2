"""The aiohttp application: every HTTP route of Sapa on one server."""

from __future__ import annotations

from typing import AsyncIterator

from aiohttp import web

from bot import adminapi, api, proxy
from bot.config import Settings
from bot.handlers import rest, widget
from bot.handlers import telegram as telegram_channel
from bot.httputil import error_middleware
from bot.runtime import Runtime, running
from bot.shopdata.model import ShopData
from web_widget import helpcenter, pages

RUNTIME = web.AppKey("runtime", Runtime)


def create_app(settings: Settings, shop: ShopData) -> web.Application:
    """An application serving ``shop``; the bot starts with the app and stops with it."""
    # The proxy's word first, so that every handler (and its limits) sees the real client.
    app = web.Application(middlewares=[proxy.middleware(proxy.parse_trusted(settings.trusted_proxies)), error_middleware])

    async def bot_runtime(app: web.Application) -> AsyncIterator[None]:
        async with running(settings, shop) as runtime:
            app[RUNTIME] = runtime
            app[rest.ENGINE] = runtime.engine
            app[api.NLU] = runtime.nlu
            app[api.STORE] = runtime.store
            widget.install(app, runtime)
            if runtime.orders is not None:
                adminapi.install(app, runtime.store, runtime.orders)
            yield

    app.cleanup_ctx.append(bot_runtime)
    rest.add_routes(app)
    widget.add_routes(app)
    api.add_routes(app)
    adminapi.add_routes(app)
    pages.add_routes(app, shop)
    helpcenter.add_routes(app, shop, settings.default_lang)
    # --- Telegram (bot/handlers/telegram.py): webhook route and channel life cycle ---
    telegram_channel.setup(app, settings, RUNTIME)
    # --- agent console (agent_console/): /console/ pages, API, live socket; its hub's life cycle ---
    import agent_console

    agent_console.setup(app, RUNTIME)
    return app
