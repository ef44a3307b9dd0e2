"""``sapa run``: prepare once, then serve with one or more worker processes."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import sys
from functools import partial

from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from bot.nlu.model import load_or_train
from bot.shopdata.model import ShopData
from bot.store import Store
from bot.workers import supervise

log = logging.getLogger("sapa")


async def _prepare(settings: Settings, shop: ShopData) -> None:
    """Migrate the database and warm the NLU cache before any worker starts,
    so workers neither race on migrations nor each train the model."""
    store = await Store.open(settings.database_url_async)
    await store.close()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, load_or_train, shop, settings.cache_dir)


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux, macOS): a cheaper loop for every request."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _serve_one(settings: Settings, shop: ShopData, reuse_port: bool) -> None:
    loop = _new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(_serve(create_app(settings, shop), settings, reuse_port))
        _cancel_leftovers(loop)
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


async def _serve(app: web.Application, settings: Settings, reuse_port: bool) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully: stop listening, let the requests
    in flight finish (turns are answered, widget sockets told to reconnect), close the store.

    Not ``web.run_app``: it stops at once on a second signal, and a worker gets two when
    systemd signals every process of the service and the parent forwards its own, or when
    Ctrl+C reaches the whole process group; the turns in flight were cut off.
    """
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port or None)
        await site.start()
        # With --port 0 the system picks the port: say which one it picked.
        bound = [address for address in runner.addresses if isinstance(address, tuple)]
        port = bound[0][1] if bound else settings.port
        log.info("worker %d serving on http://%s:%d", os.getpid(), settings.host, port)
        await _stop_requested()
        log.info("worker %d stopping: finishing the requests in flight", os.getpid())
    finally:
        await runner.cleanup()


async def _stop_requested() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)  # later signals: already stopping, nothing more to do
    await stop.wait()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (None when it can).

    Tried before migrating and training, so a second ``sapa run`` on a taken port or a
    mistyped ``--host`` fails at once with one line instead of a traceback from aiohttp.
    """
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"unknown host ({exc.strerror})"
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                if exc.errno == errno.EADDRINUSE:
                    reason += " (is another Sapa or web server running there? pick another --port)"
                return reason
    return None


def serve(settings: Settings, shop: ShopData) -> int:
    problem = _cannot_listen(settings.host, settings.port)
    if problem is not None:
        print(f"sapa: cannot listen on {settings.host}:{settings.port}: {problem}", file=sys.stderr)
        return 1
    asyncio.run(_prepare(settings, shop))
    log.info(
        "Sapa is ready for %s: %d FAQ entries, %d products — http://%s:%d",
        shop.shop.get("name", settings.data_dir),
        len(shop.faqs),
        len(shop.products),
        settings.host,
        settings.port,
    )
    if settings.workers <= 1:
        _serve_one(settings, shop, reuse_port=False)
        return 0
    if not settings.redis_url:
        log.warning(
            "%d workers without REDIS_URL: live events stay inside each worker; "
            "set REDIS_URL so workers share events and conversation locks",
            settings.workers,
        )
    return supervise(settings.workers, partial(_serve_one, settings, shop, True))
